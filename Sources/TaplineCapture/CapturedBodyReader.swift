/// Reads a `CapturedBody`'s stored bytes front to back, one chunk at a time, when the
/// caller asks: what a sender that must wait for its peer (replay writing a recorded
/// request body while the connection takes it) pulls from, where
/// `CapturedBody.write(to:)` pushes everything at once.
///
/// Memory: one chunk at a time (at most `maxBytes` of one `next`) and one open segment
/// file, whatever the body's size (none of its own when it reads through `sharedFiles`,
/// whose read-ahead window serves it).
///
/// Thread ownership: a reference owned by one caller at a time (it holds an open file).
public final class CapturedBodyReader {
    private let body: CapturedBody
    /// The extent being read and the offset in it of the next byte.
    private var extentIndex = 0
    private var offsetInExtent: UInt64 = 0
    /// The segment being read: its path, and its file when the reader opened it itself
    /// (nil: read through `sharedFiles`).
    private var openSegment: (number: Int, path: String, file: CaptureFile?)?
    /// Where segment files come from when they are shared (their owner closes them), else nil.
    private let sharedFiles: CaptureSegmentFiles?
    /// Stored bytes handed out so far.
    public private(set) var bytesRead: UInt64 = 0

    /// - Parameter sharedFiles: open segment files to read through (of the reader's thread),
    ///   instead of opening the body's own.
    public init(_ body: CapturedBody, sharedFiles: CaptureSegmentFiles? = nil) {
        self.body = body
        self.sharedFiles = sharedFiles
    }

    /// True once every stored byte was handed out.
    public var isAtEnd: Bool { bytesRead >= body.capturedBytes }

    /// The next stored bytes, at most `maxBytes` (fewer at an extent's end); empty at the end.
    ///
    /// - Throws: `cannotRead` naming the segment when it is missing or shorter than the
    ///   session's events say (a damaged session).
    public func next(maxBytes: Int) throws(CaptureError) -> [UInt8] {
        Array(try nextSlice(maxBytes: maxBytes))  // a slice of a whole array becomes it without a copy
    }

    /// `next(maxBytes:)` as a slice: read through `sharedFiles`, a slice of the read-ahead
    /// window's bytes, not copied out (a replay compares each response chunk with it and
    /// lets it go).
    public func nextSlice(maxBytes: Int) throws(CaptureError) -> ArraySlice<UInt8> {
        while extentIndex < body.extents.count, offsetInExtent >= body.extents[extentIndex].length {
            extentIndex += 1
            offsetInExtent = 0
        }
        guard extentIndex < body.extents.count, maxBytes > 0 else { return [] }
        let extent = body.extents[extentIndex]
        if openSegment?.number != extent.segment {
            close()
            let path = sharedFiles?.segmentPath(directory: body.sessionDirectory, number: extent.segment)
                ?? CaptureBatchWriter.segmentPath(directory: body.sessionDirectory, number: extent.segment)
            openSegment = (extent.segment, path, sharedFiles == nil ? try CaptureFile.openForReading(path) : nil)
        }
        guard let segment = openSegment else { return [] }
        let want = Int(min(UInt64(maxBytes), extent.length - offsetInExtent))
        let offset = extent.offset + offsetInExtent
        let chunk = if let file = segment.file {
            try file.read(count: want, at: offset)[...]
        } else {
            try sharedFiles?.read(segment.path, at: offset, count: want) ?? []
        }
        guard !chunk.isEmpty else {
            throw .cannotRead(path: segment.path,
                              reason: "ends before byte \(offset) that events.jsonl refers to (damaged session)")
        }
        let count = chunk.count
        offsetInExtent += UInt64(count)
        bytesRead += UInt64(count)
        return chunk
    }

    /// Closes the segment file (also done when the reader goes away); a shared one stays open.
    public func close() {
        openSegment?.file?.close()
        openSegment = nil
    }
}
