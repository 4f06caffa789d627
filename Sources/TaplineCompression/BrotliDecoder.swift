import CBrotli

/// A streaming brotli (RFC 7932) decompressor for `Content-Encoding: br`
/// bodies, with a bound on how much it will produce.
///
/// Feed compressed bytes in any split with `decompress(_:into:)`; `finish()`
/// checks the stream ended. `maxOutputBytes` bounds the total output: one more
/// byte throws `outputLimitExceeded` before it is appended, so a decompression
/// bomb costs at most the limit in memory. After a thrown error the decoder is
/// unusable. Errors are `CompressionError`s, like `ZlibInflater`'s.
///
/// Thread ownership: not thread-safe; one owner at a time.
public final class BrotliDecoder {
    public let maxOutputBytes: Int
    public private(set) var outputCount = 0
    /// The end of the brotli stream was reached.
    public private(set) var isFinished = false

    private let state: OpaquePointer
    private let scratch: UnsafeMutablePointer<UInt8>
    private static let scratchSize = 64 << 10

    /// - Throws: `outOfMemory` when libbrotli cannot allocate its state.
    public init(maxOutputBytes: Int = 64 << 20) throws(CompressionError) {
        guard let state = BrotliDecoderCreateInstance(nil, nil, nil) else { throw .outOfMemory }
        self.state = state
        self.maxOutputBytes = max(0, maxOutputBytes)
        scratch = .allocate(capacity: Self.scratchSize)
    }

    deinit {
        BrotliDecoderDestroyInstance(state)
        scratch.deallocate()
    }

    /// Decompresses `input` and appends what it yields to `output`.
    /// - Throws: `corruptData`, `outputLimitExceeded`, `trailingData` (bytes after the stream's end).
    public func decompress(_ input: [UInt8], into output: inout [UInt8]) throws(CompressionError) {
        let result: Result<Void, CompressionError> = input.withUnsafeBufferPointer { buffer in
            do throws(CompressionError) {
                try run(buffer, into: &output)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }

    /// Checks that the whole stream was seen.
    /// - Throws: `truncated` when the stream's end is missing.
    public func finish() throws(CompressionError) {
        guard isFinished else { throw .truncated }
    }

    /// Decompresses a whole buffer and checks it is complete.
    public static func decompress(_ input: [UInt8], maxOutputBytes: Int = 64 << 20) throws(CompressionError) -> [UInt8] {
        let decoder = try BrotliDecoder(maxOutputBytes: maxOutputBytes)
        var output: [UInt8] = []
        try decoder.decompress(input, into: &output)
        try decoder.finish()
        return output
    }

    private func run(_ input: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) throws(CompressionError) {
        var next = input.baseAddress
        var available = input.count
        while true {
            if isFinished {
                if available > 0 { throw .trailingData(count: available) }
                return
            }
            let room = maxOutputBytes - outputCount
            let chunk = min(Self.scratchSize, room + 1)
            var outNext: UnsafeMutablePointer<UInt8>? = scratch
            var outAvailable = chunk
            let status = BrotliDecoderDecompressStream(state, &available, &next, &outAvailable, &outNext, nil)
            let produced = chunk - outAvailable
            if produced > room { throw .outputLimitExceeded(limit: maxOutputBytes) }
            if produced > 0 {
                output.append(contentsOf: UnsafeBufferPointer(start: scratch, count: produced))
                outputCount += produced
            }
            switch status {
            case BROTLI_DECODER_RESULT_SUCCESS:
                isFinished = true
            case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT:
                if available == 0 { return }
            case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT:
                continue
            default:
                let code = BrotliDecoderGetErrorCode(state)
                let name = BrotliDecoderErrorString(code).map { String(cString: $0) } ?? "error \(code.rawValue)"
                throw .corruptData(detail: "brotli: \(name)")
            }
        }
    }
}
