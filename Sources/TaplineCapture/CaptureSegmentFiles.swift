/// Body segment files kept open for the `CapturedBodyReader`s of one thread, one
/// descriptor per file, so that reading many small bodies of one session (a replay
/// matching each response against its source) opens each segment once rather than once
/// per body. Reads are positioned (`pread`), so readers share a descriptor freely.
///
/// Memory: one descriptor per segment file read (a session has a few).
///
/// Thread ownership: one thread (the replay's loop); `closeAll` when done (also done when
/// it goes away).
public final class CaptureSegmentFiles {
    private var files: [String: CaptureFile] = [:]

    public init() {}

    deinit {
        closeAll()
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

    /// Closes every file; a later `file` opens it again.
    public func closeAll() {
        for file in files.values { file.close() }
        files = [:]
    }
}
