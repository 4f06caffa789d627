import Foundation
import Glibc

/// One message body of a captured flow: where its stored bytes are and how
/// many bytes passed. Reading streams from the segment files in chunks, so a
/// body of any size costs a fixed amount of memory.
///
/// Invariants: `capturedBytes` is the sum of the extents' lengths;
/// `bodyBytes >= capturedBytes`; `truncated` is true when `--max-body-capture`
/// (or a writer error) kept fewer bytes than passed. A value type.
public struct CapturedBody: Sendable, Equatable {
    /// The session directory whose `bodies/` holds the extents.
    public let sessionDirectory: String
    public var extents: [BodyExtent] = []
    /// Bytes that passed through the proxy (from the end event; the stored
    /// count while the message has not ended).
    public var bodyBytes: UInt64 = 0
    /// Bytes stored in the segments.
    public var capturedBytes: UInt64 = 0
    public var truncated = false
    /// True once the message's end event was recorded.
    public var isComplete = false

    public init(sessionDirectory: String) {
        self.sessionDirectory = sessionDirectory
    }

    /// The first segment file an extent refers to that does not exist (a damaged or
    /// partly deleted session); nil when every one is there.
    public var missingSegmentPath: String? {
        var checked = Set<Int>()
        for extent in extents where checked.insert(extent.segment).inserted {
            let path = segmentPath(extent.segment)
            if !FileManager.default.fileExists(atPath: path) { return path }
        }
        return nil
    }

    /// The path of body segment file `number` of the session.
    public func segmentPath(_ number: Int) -> String {
        CaptureBatchWriter.segmentPath(directory: sessionDirectory, number: number)
    }

    /// Size of the chunks read from the segment files.
    static let readChunk = 256 << 10

    /// Streams the stored bytes to `descriptor` in order; returns how many were written.
    ///
    /// - Throws: `cannotRead` when a segment is missing or shorter than an extent
    ///   says (the session was damaged), `cannotWrite` when the output fails.
    @discardableResult
    public func write(to descriptor: Int32) throws(CaptureError) -> UInt64 {
        var written: UInt64 = 0
        try forEachChunk { (chunk) throws(CaptureError) in
            var base = chunk.baseAddress
            var left = chunk.count
            while left > 0, let pointer = base {
                let n = Glibc.write(descriptor, pointer, left)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw .cannotWrite(path: "output", reason: CaptureFile.lastErrorText())
                }
                left -= n
                base = pointer + n
            }
            written += UInt64(chunk.count)
            return true
        }
        return written
    }

    /// Streams the stored bytes to `handle` (e.g. `FileHandle.standardOutput`).
    @discardableResult
    public func write(to handle: FileHandle) throws(CaptureError) -> UInt64 {
        try write(to: handle.fileDescriptor)
    }

    /// At most `limit` stored bytes from the start, for previews.
    public func bodyData(limit: Int = 4096) throws(CaptureError) -> [UInt8] {
        var result: [UInt8] = []
        guard limit > 0 else { return result }
        try forEachChunk(maxBytes: UInt64(limit)) { (chunk) throws(CaptureError) in
            result.append(contentsOf: chunk)
            return result.count < limit
        }
        return result
    }

    /// At most `maxCount` stored bytes starting `start` bytes into the body (fewer at its
    /// end, none past it): what a reader that streams the body in steps asks for (`tapline
    /// mock` serving a recorded response as its client consumes it).
    ///
    /// - Throws: `cannotRead` when a segment is missing or shorter than an extent says.
    public func bytes(from start: UInt64, maxCount: Int) throws(CaptureError) -> [UInt8] {
        var result: [UInt8] = []
        var skip = start
        var left = UInt64(max(0, maxCount))
        for extent in extents where left > 0 {
            if skip >= extent.length {
                skip -= extent.length
                continue
            }
            let count = Int(min(extent.length - skip, left))
            let file = try CaptureFile.openForReading(CaptureBatchWriter.segmentPath(directory: sessionDirectory,
                                                                                    number: extent.segment))
            let chunk = try file.read(count: count, at: extent.offset + skip)
            guard chunk.count == count else {
                throw .cannotRead(path: file.path, reason: "ends before byte \(extent.offset + skip + UInt64(chunk.count)) that events.jsonl refers to (damaged session)")
            }
            result += chunk
            left -= UInt64(count)
            skip = 0
        }
        return result
    }

    /// Calls `body` with consecutive chunks of the stored bytes until it returns false.
    private func forEachChunk(maxBytes: UInt64 = .max,
                              _ body: (UnsafeRawBufferPointer) throws(CaptureError) -> Bool) throws(CaptureError) {
        guard !extents.isEmpty else { return }
        var buffer = [UInt8](repeating: 0, count: Int(min(UInt64(Self.readChunk), max(1, min(maxBytes, capturedBytes)))))
        var openSegment: (number: Int, file: CaptureFile)?
        var remainingTotal = maxBytes
        for extent in extents {
            if openSegment?.number != extent.segment {
                openSegment = (extent.segment, try CaptureFile.openForReading(
                    CaptureBatchWriter.segmentPath(directory: sessionDirectory, number: extent.segment)))
            }
            guard let file = openSegment?.file else { return }
            var offset = extent.offset
            var left = min(extent.length, remainingTotal)
            while left > 0 {
                let want = Int(min(UInt64(buffer.count), left))
                let result = buffer.withUnsafeMutableBytes { raw in
                    Result { () throws(CaptureError) -> Int in
                        try file.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<want]), at: offset)
                    }
                }
                let n = try result.get()
                guard n > 0 else {
                    throw .cannotRead(path: file.path, reason: "ends before byte \(offset) that events.jsonl refers to (damaged session)")
                }
                let more = try buffer.withUnsafeBytes { raw in
                    Result { () throws(CaptureError) -> Bool in try body(UnsafeRawBufferPointer(rebasing: raw[0..<n])) }
                }.get()
                offset += UInt64(n)
                left -= UInt64(n)
                remainingTotal -= UInt64(n)
                if !more || remainingTotal == 0 { return }
            }
        }
    }
}
