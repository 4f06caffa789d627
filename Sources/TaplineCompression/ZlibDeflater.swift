import CZlib

/// A streaming zlib compressor producing raw DEFLATE, zlib or gzip data.
///
/// Used for permessage-deflate (raw, sync flush after each message, trailing
/// `00 00 ff ff` removed by the caller) and by tests that need compressed fixtures.
/// The window (context) is kept across calls until `reset()`.
///
/// zlib cannot compress raw DEFLATE with an 8-bit window, so `.raw(windowBits: 8)`
/// is refused: negotiate 9...15 for the sending side.
///
/// Thread ownership: not thread-safe; one owner at a time.
public final class ZlibDeflater {
    /// How far to flush after the input of one call.
    public enum Flush: Sendable {
        /// Keep data buffered for better compression.
        case none
        /// Emit everything so far, ending on a byte boundary (an empty stored block, `00 00 ff ff`).
        case sync
        /// End the stream (final block and trailer); `reset()` before compressing more.
        case finish
    }

    public let format: ZlibFormat
    private let stream: UnsafeMutablePointer<z_stream>
    private let scratch: UnsafeMutablePointer<UInt8>
    private static let scratchSize = 64 << 10

    /// - Parameters:
    ///   - level: 0 (store) ... 9 (best), or -1 for zlib's default (6).
    ///   - memoryLevel: 1...9, zlib's memory/speed trade-off (default 8).
    /// - Throws: `invalidParameters` for out-of-range arguments or a raw 8-bit window.
    public init(format: ZlibFormat, level: Int = -1, memoryLevel: Int = 8) throws(CompressionError) {
        if format == .zlibOrGzip { throw .invalidParameters("zlibOrGzip is for decompression only") }
        if case .raw(let bits) = format, bits == 8 {
            throw .invalidParameters("zlib cannot compress raw DEFLATE with an 8-bit window; use 9...15")
        }
        guard (-1...9).contains(level) else { throw .invalidParameters("level must be -1...9, got \(level)") }
        guard (1...9).contains(memoryLevel) else {
            throw .invalidParameters("memory level must be 1...9, got \(memoryLevel)")
        }
        let bits = try format.zlibWindowBits()
        self.format = format
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = deflateInit2_(stream, Int32(level), Z_DEFLATED, bits, Int32(memoryLevel), Z_DEFAULT_STRATEGY,
                                   zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            throw status == Z_MEM_ERROR ? .outOfMemory : .unexpectedStatus(code: status, operation: "deflateInit2")
        }
        scratch = .allocate(capacity: Self.scratchSize)
    }

    deinit {
        deflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
        scratch.deallocate()
    }

    /// Compresses `input` and appends the output produced so far to `output`.
    public func compress(_ input: ArraySlice<UInt8>, flush: Flush, into output: inout [UInt8]) throws(CompressionError) {
        let result: Result<Void, CompressionError> = input.withUnsafeBufferPointer { buffer in
            do throws(CompressionError) {
                try run(buffer, flush: flush, into: &output)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }

    public func compress(_ input: [UInt8], flush: Flush, into output: inout [UInt8]) throws(CompressionError) {
        try compress(input[...], flush: flush, into: &output)
    }

    /// Forgets the window and starts a new stream.
    public func reset() {
        deflateReset(stream)
    }

    /// Compresses a whole buffer into one finished stream.
    public static func compress(_ input: [UInt8], format: ZlibFormat, level: Int = -1) throws(CompressionError) -> [UInt8] {
        let deflater = try ZlibDeflater(format: format, level: level)
        var output: [UInt8] = []
        try deflater.compress(input, flush: .finish, into: &output)
        return output
    }

    private func run(_ input: UnsafeBufferPointer<UInt8>, flush: Flush, into output: inout [UInt8]) throws(CompressionError) {
        let mode: Int32
        switch flush {
        case .none: mode = Z_NO_FLUSH
        case .sync: mode = Z_SYNC_FLUSH
        case .finish: mode = Z_FINISH
        }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
        stream.pointee.avail_in = UInt32(input.count)
        defer { stream.pointee.next_in = nil; stream.pointee.avail_in = 0 }
        guard input.count <= Int(UInt32.max) else {
            throw .invalidParameters("one call can compress at most 4 GiB")
        }
        while true {
            stream.pointee.next_out = scratch
            stream.pointee.avail_out = UInt32(Self.scratchSize)
            let status = deflate(stream, mode)
            let produced = Self.scratchSize - Int(stream.pointee.avail_out)
            if produced > 0 { output.append(contentsOf: UnsafeBufferPointer(start: scratch, count: produced)) }
            switch status {
            case Z_STREAM_END:
                return
            case Z_OK, Z_BUF_ERROR:
                // Done when the output was not filled and all input was taken (for finish: Z_STREAM_END).
                if flush != .finish, stream.pointee.avail_out > 0, stream.pointee.avail_in == 0 { return }
                if status == Z_BUF_ERROR, produced == 0 {
                    throw .unexpectedStatus(code: status, operation: "deflate")
                }
            default:
                throw .unexpectedStatus(code: status, operation: "deflate")
            }
        }
    }
}
