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
public final class BrotliDecoder: BoundedDecoder {
    public let maxOutputBytes: Int
    public private(set) var outputCount = 0
    /// The end of the brotli stream was reached.
    public private(set) var isFinished = false

    private let state: OpaquePointer
    private let scratch: UnsafeMutablePointer<UInt8>
    private static let scratchSize = 64 << 10

    /// - Throws: `outOfMemory` when libbrotli cannot allocate its state.
    public required init(maxOutputBytes: Int = 64 << 20) throws(CompressionError) {
        guard let state = BrotliDecoderCreateInstance(nil, nil, nil) else { throw .outOfMemory }
        self.state = state
        self.maxOutputBytes = max(0, maxOutputBytes)
        scratch = .allocate(capacity: Self.scratchSize)
    }

    deinit {
        BrotliDecoderDestroyInstance(state)
        scratch.deallocate()
    }

    /// Checks that the whole stream was seen.
    /// - Throws: `truncated` when the stream's end is missing.
    public func finish() throws(CompressionError) {
        guard isFinished else { throw .truncated }
    }

    public func run(_ raw: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(CompressionError) {
        let input = raw.bindMemory(to: UInt8.self)
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
