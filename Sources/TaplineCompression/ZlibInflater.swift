import CZlib

/// A streaming zlib decompressor for raw DEFLATE, zlib and gzip data, with a
/// bound on how much it will produce.
///
/// Feed compressed bytes in any split with `decompress(_:into:)`; output is
/// appended as it becomes available. `maxOutputBytes` bounds the bytes produced
/// since `init`, `reset()` or `resetOutputCount()`: one more byte throws
/// `outputLimitExceeded` before it is appended, so a decompression bomb costs at
/// most the limit in memory.
///
/// Invariants: after a thrown error (other than `outputLimitExceeded` before any
/// state change) the stream is unusable until `reset()`. The DEFLATE window
/// (context) is kept across calls until `reset()`: permessage-deflate with
/// context takeover keeps one inflater for a direction; without it, the caller
/// resets after each message.
///
/// Thread ownership: not thread-safe; one owner at a time (it may be handed
/// between threads, not shared).
public final class ZlibInflater {
    public let format: ZlibFormat
    /// Output allowed since the last reset before `outputLimitExceeded` is thrown.
    public var maxOutputBytes: Int
    /// Bytes produced since `init`, `reset()` or `resetOutputCount()`.
    public private(set) var outputCount = 0
    /// The end of the compressed stream was reached (zlib/gzip trailer checked, or a
    /// final DEFLATE block for raw data).
    public private(set) var isFinished = false
    /// The last `inflate` filled the output it was given: zlib may hold more output
    /// even with no input left (a stepped `decompress` stopped there).
    private var outputMayBePending = false

    private let stream: UnsafeMutablePointer<z_stream>
    private let scratch: UnsafeMutablePointer<UInt8>
    private static let scratchSize = 64 << 10

    /// - Parameters:
    ///   - format: the container; `.raw(windowBits:)` must match (or exceed) the sender's window.
    ///   - maxOutputBytes: the most output to produce before throwing (default 64 MiB).
    /// - Throws: `invalidParameters` for window bits outside 8...15, `outOfMemory`.
    public init(format: ZlibFormat, maxOutputBytes: Int = 64 << 20) throws(CompressionError) {
        let bits = try format.zlibWindowBits()
        self.format = format
        self.maxOutputBytes = max(0, maxOutputBytes)
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = inflateInit2_(stream, bits, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            throw status == Z_MEM_ERROR ? .outOfMemory : .unexpectedStatus(code: status, operation: "inflateInit2")
        }
        scratch = .allocate(capacity: Self.scratchSize)
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
        scratch.deallocate()
    }

    /// Decompresses `input` and appends what it yields to `output`.
    ///
    /// gzip data may hold several members back to back (each is decoded); any other
    /// bytes after the end of the stream throw `trailingData`.
    public func decompress(_ input: ArraySlice<UInt8>, into output: inout [UInt8]) throws(CompressionError) {
        _ = try decompress(input, stoppingAfter: .max, into: &output)
    }

    /// Decompresses from the start of `input` until at least `outputStep` bytes were
    /// appended to `output` (at most 64 KiB more) or the input is used up, and returns
    /// how many input bytes it consumed. A caller spreads a large output over several
    /// turns this way, handing back the rest of the input each time; when it stopped for
    /// the step, call again (even with no input left: zlib may still hold output).
    public func decompress(_ input: ArraySlice<UInt8>, stoppingAfter outputStep: Int,
                           into output: inout [UInt8]) throws(CompressionError) -> Int {
        let result: Result<Int, CompressionError> = input.withUnsafeBufferPointer { buffer in
            do throws(CompressionError) {
                return .success(try run(buffer, stopAfter: outputStep, into: &output))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Decompresses `input` and appends what it yields to `output`.
    public func decompress(_ input: [UInt8], into output: inout [UInt8]) throws(CompressionError) {
        try decompress(input[...], into: &output)
    }

    /// Checks that the whole stream was seen. Call at the end of an HTTP body.
    /// - Throws: `truncated` when the stream's end (trailer or final block) is missing.
    public func finish() throws(CompressionError) {
        guard isFinished else { throw .truncated }
    }

    /// Forgets the window and any partial stream, and zeroes `outputCount`: the next
    /// input starts a new stream (permessage-deflate without context takeover).
    public func reset() {
        inflateReset(stream)
        isFinished = false
        outputMayBePending = false
        outputCount = 0
    }

    /// Starts counting output against `maxOutputBytes` from zero, keeping the window
    /// (permessage-deflate with context takeover: the limit is per message).
    public func resetOutputCount() {
        outputCount = 0
    }

    /// Decompresses a whole buffer in one go and checks it is complete.
    public static func decompress(_ input: [UInt8], format: ZlibFormat,
                                  maxOutputBytes: Int = 64 << 20) throws(CompressionError) -> [UInt8] {
        let inflater = try ZlibInflater(format: format, maxOutputBytes: maxOutputBytes)
        var output: [UInt8] = []
        try inflater.decompress(input, into: &output)
        try inflater.finish()
        return output
    }

    /// Inflates `input` until it is used up (and zlib has no output left) or `stopAfter`
    /// bytes were produced; returns the input bytes consumed.
    private func run(_ input: UnsafeBufferPointer<UInt8>, stopAfter: Int,
                     into output: inout [UInt8]) throws(CompressionError) -> Int {
        var next = input.baseAddress
        var available = input.count
        var producedHere = 0
        defer { stream.pointee.next_in = nil; stream.pointee.avail_in = 0 }
        while true {
            if isFinished {
                if available == 0 { return input.count }
                guard format == .gzip || format == .zlibOrGzip else { throw .trailingData(count: available) }
                inflateReset(stream)  // the next gzip member
                isFinished = false
            }
            if available == 0 && !outputMayBePending { return input.count }
            if producedHere >= stopAfter { return input.count - available }
            let room = maxOutputBytes - outputCount
            // Ask for at most one byte beyond the limit: that byte proves the limit is exceeded.
            let chunk = min(Self.scratchSize, room + 1)
            stream.pointee.next_in = UnsafeMutablePointer(mutating: next)
            stream.pointee.avail_in = UInt32(min(available, Int(UInt32.max)))
            stream.pointee.next_out = scratch
            stream.pointee.avail_out = UInt32(chunk)
            let offered = Int(stream.pointee.avail_in)
            let status = inflate(stream, Z_NO_FLUSH)
            let consumed = offered - Int(stream.pointee.avail_in)
            let produced = chunk - Int(stream.pointee.avail_out)
            next = next.map { $0 + consumed }
            available -= consumed
            if produced > room { throw .outputLimitExceeded(limit: maxOutputBytes) }
            if produced > 0 {
                output.append(contentsOf: UnsafeBufferPointer(start: scratch, count: produced))
                outputCount += produced
                producedHere += produced
            }
            outputMayBePending = produced == chunk
            switch status {
            case Z_STREAM_END:
                isFinished = true
                outputMayBePending = false
            case Z_OK:
                // inflate stops early only when the output is full; otherwise all input was used.
                if produced < chunk, available == 0 { return input.count }
            case Z_BUF_ERROR:
                outputMayBePending = false
                if available == 0 { return input.count }  // needs more input
                if produced == 0, consumed == 0 {
                    throw .unexpectedStatus(code: status, operation: "inflate")
                }
            case Z_DATA_ERROR, Z_NEED_DICT:
                throw .corruptData(detail: message(status == Z_NEED_DICT ? "a preset dictionary is required" : nil))
            case Z_MEM_ERROR:
                throw .outOfMemory
            default:
                throw .unexpectedStatus(code: status, operation: "inflate")
            }
        }
    }

    private func message(_ fallback: String?) -> String {
        if let fallback { return fallback }
        guard let text = stream.pointee.msg else { return "invalid data" }
        return String(cString: text)
    }
}
