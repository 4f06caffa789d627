import CZstd

/// A streaming Zstandard (RFC 8878) decompressor for `Content-Encoding: zstd`
/// bodies, with a bound on how much it will produce.
///
/// Same contract as `BrotliDecoder`: any input split, `finish()` checks the
/// last frame ended, `outputLimitExceeded` before the limit is passed, the
/// decoder is unusable after an error. Several concatenated frames are decoded
/// in turn (RFC 8878 §3.1). The window is capped at 2^27 bytes (RFC 8878
/// recommends 8 MiB for HTTP; 128 MiB keeps odd encoders working).
///
/// Thread ownership: not thread-safe; one owner at a time.
public final class ZstdDecoder: BoundedDecoder {
    public let maxOutputBytes: Int
    public private(set) var outputCount = 0
    /// True between frames: everything fed so far ended a frame.
    public private(set) var isFinished = false

    private let stream: OpaquePointer
    private let scratch: UnsafeMutablePointer<UInt8>
    private static let scratchSize = 64 << 10
    private var sawInput = false

    /// - Throws: `outOfMemory` when libzstd cannot allocate its state.
    public required init(maxOutputBytes: Int = 64 << 20) throws(CompressionError) {
        guard let stream = ZSTD_createDStream() else { throw .outOfMemory }
        self.stream = stream
        self.maxOutputBytes = max(0, maxOutputBytes)
        scratch = .allocate(capacity: Self.scratchSize)
        _ = ZSTD_DCtx_setParameter(stream, ZSTD_d_windowLogMax, 27)
    }

    deinit {
        ZSTD_freeDStream(stream)
        scratch.deallocate()
    }

    /// Checks that the last frame was complete.
    /// - Throws: `truncated` when a frame was cut short (or nothing was fed).
    public func finish() throws(CompressionError) {
        guard isFinished else { throw .truncated }
    }

    public func run(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(CompressionError) {
        guard input.count > 0 else { return }
        sawInput = true
        var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        while true {
            let room = maxOutputBytes - outputCount
            let chunk = min(Self.scratchSize, room + 1)
            var outBuffer = ZSTD_outBuffer(dst: scratch, size: chunk, pos: 0)
            let hint = ZSTD_decompressStream(stream, &outBuffer, &inBuffer)
            if ZSTD_isError(hint) != 0 {
                throw .corruptData(detail: "zstd: \(String(cString: ZSTD_getErrorName(hint)))")
            }
            let produced = outBuffer.pos
            if produced > room { throw .outputLimitExceeded(limit: maxOutputBytes) }
            if produced > 0 {
                output.append(contentsOf: UnsafeBufferPointer(start: scratch, count: produced))
                outputCount += produced
            }
            isFinished = hint == 0
            // Done with this input once it is consumed and the output buffer was not filled.
            if inBuffer.pos == inBuffer.size && produced < chunk { return }
        }
    }
}
