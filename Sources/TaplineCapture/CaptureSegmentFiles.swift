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
    /// The file `file` returned last, and its path.
    private var lastFile: (path: String, file: CaptureFile)?
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
        // Most reads are of the segment read last (a session has one or a few); the
        // path is then the same `String` (`segmentPath`), compared without hashing.
        if let last = lastFile, last.path == path { return last.file }
        let file: CaptureFile
        if let open = files[path] {
            file = open
        } else {
            file = try CaptureFile.openForReading(path)
            files[path] = file
        }
        lastFile = (path, file)
        return file
    }

    /// Up to `count` bytes of the segment file at `path` from `offset` (fewer only where
    /// the file ends, none past its end), through the read-ahead windows.
    ///
    /// - Throws: `cannotRead` naming the file when it cannot be opened or read.
    func read(_ path: String, at offset: UInt64, count: Int) throws(CaptureError) -> ArraySlice<UInt8> {
        try readAhead.read(try file(path), at: offset, count: count)
    }

    /// Closes every file and lets the windows go; a later `file` opens it again.
    public func closeAll() {
        for file in files.values { file.close() }
        files = [:]
        lastFile = nil
        readAhead.removeAll()
    }
}
