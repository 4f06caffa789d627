/// Body segment files kept open for the `CapturedBodyReader`s of one thread, one
/// descriptor per file, so that reading many small bodies of one session (a replay
/// matching each response against its source) opens each segment once rather than once
/// per body, and reads them through read-ahead windows (`read`, `CaptureReadAhead`), so
/// that the small bodies of a recorded connection's flows, stored one after another,
/// take one `pread` for several rather than one each.
///
/// Memory: one descriptor per segment file read (a session has a few), and the
/// read-ahead windows.
///
/// Thread ownership: one thread (the replay's loop); `closeAll` when done (also done when
/// it goes away).
public final class CaptureSegmentFiles {
    private var files: [String: CaptureFile] = [:]
    private var readAhead = CaptureReadAhead()
    /// Segment paths made so far, of one session directory (`segmentPath`).
    private var paths: (directory: String, byNumber: [Int: String]) = ("", [:])

    public init() {}

    deinit {
        closeAll()
    }

    /// The path of segment `number` of the session in `directory`
    /// (`CaptureBatchWriter.segmentPath`), made once.
    func segmentPath(directory: String, number: Int) -> String {
        if directory != paths.directory { paths = (directory, [:]) }
        if let known = paths.byNumber[number] { return known }
        let path = CaptureBatchWriter.segmentPath(directory: directory, number: number)
        paths.byNumber[number] = path
        return path
    }

    /// The open file at `path`, opened on first use.
    ///
    /// - Throws: `cannotRead` naming the file when it cannot be opened.
    func file(_ path: String) throws(CaptureError) -> CaptureFile {
        if let open = files[path] { return open }
        let opened = try CaptureFile.openForReading(path)
        files[path] = opened
        return opened
    }

    /// Up to `count` bytes of the segment file at `path` from `offset` (fewer only where
    /// the file ends, none past its end), through the read-ahead windows.
    ///
    /// - Throws: `cannotRead` naming the file when it cannot be opened or read.
    func read(_ path: String, at offset: UInt64, count: Int) throws(CaptureError) -> [UInt8] {
        Array(try readAhead.read(try file(path), at: offset, count: count))
    }

    /// Closes every file and lets the windows go; a later `file` opens it again.
    public func closeAll() {
        for file in files.values { file.close() }
        files = [:]
        readAhead.removeAll()
    }
}
