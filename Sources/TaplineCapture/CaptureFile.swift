import Glibc

/// A file descriptor of a capture file, with the few operations the writer and
/// reader need: exclusive creation with an explicit mode, complete writes that
/// survive partial writes and EINTR, positioned reads, fsync.
///
/// Invariants: files are created with `open(..., O_CREAT | O_EXCL, mode)` so the
/// permissions are right from the first byte (never chmod after); the descriptor
/// is close-on-exec. Not thread-safe: one owner at a time (the writer thread for
/// files being written, the reading thread for files being read).
final class CaptureFile {
    let path: String
    private(set) var descriptor: Int32
    /// For files created here (append-only): written data leaves the page cache.
    private var pageRelease: WrittenPageRelease?
    /// For files created with `directIO` on a file system that does it: appends
    /// are staged and written around the page cache.
    private(set) var directIO: DirectIOAppender?

    private init(path: String, descriptor: Int32, pageRelease: WrittenPageRelease? = nil) {
        self.path = path
        self.descriptor = descriptor
        self.pageRelease = pageRelease
    }

    deinit { close() }

    /// Creates a new file (it must not exist) with `mode`, to be appended to.
    ///
    /// With a `directIO` queue, where the file system does direct I/O, appends are
    /// staged and written around the page cache by that queue (`DirectIOAppender`):
    /// they reach the file as staging buffers fill, on `makeVisible()` and on `sync()`.
    /// Otherwise every append is written at once, and every `pageReleaseWindow`
    /// bytes appended are written back and dropped from the page cache
    /// (`WrittenPageRelease`).
    static func create(_ path: String, mode: mode_t = 0o600, directIO queue: DirectWriteQueue? = nil,
                       pageReleaseWindow: UInt64 = WrittenPageRelease.defaultWindow) throws(CaptureError) -> CaptureFile {
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .cannotCreate(path: path, reason: Self.lastErrorText()) }
        let file = CaptureFile(path: path, descriptor: fd, pageRelease: WrittenPageRelease(window: pageReleaseWindow))
        if let queue { file.directIO = DirectIOAppender(path: path, descriptor: fd, queue: queue) }
        return file
    }

    /// Whether the file writes around the page cache (see `create`).
    var writesDirectly: Bool { directIO?.writesDirectly ?? false }

    /// Some appended bytes are only staged in memory (see `makeVisible`).
    var hasInvisibleBytes: Bool { directIO?.hasInvisibleBytes ?? false }

    /// Whether appending `count` more bytes writes some of them to the file now
    /// (always, unless they are staged for direct I/O and fit).
    func appendWritesOut(_ count: Int) -> Bool { directIO?.appendWritesOut(count) ?? true }

    /// Hands every byte appended so far to the kernel, so readers see it and it
    /// survives the process. A no-op unless appends are staged.
    func makeVisible() throws(CaptureError) {
        try directIO?.makeVisible()
    }

    /// Writes what is staged and appends through the page cache from now on (with
    /// `WrittenPageRelease`). For a file whose bytes arrive in bulk, which the
    /// kernel's writeback, keeping several writes in flight, stores faster than
    /// direct writes one at a time (see `CaptureBatchWriter`).
    func leaveDirectIO() throws(CaptureError) {
        guard let directIO else { return }
        try directIO.makeVisible()
        let end = directIO.length
        self.directIO = nil  // waits for its writes, closes its descriptor
        guard lseek(descriptor, off_t(end), SEEK_SET) >= 0 else {
            throw .cannotWrite(path: path, reason: Self.lastErrorText())
        }
    }

    /// After a write error (the direct-write queue then skips every job): writes
    /// every byte appended so far through the page cache, without the queue, and
    /// appends that way from now on. A no-op without direct I/O (appends were
    /// written at once).
    func writeHeldBytesAfterFailure() throws(CaptureError) {
        guard let directIO else { return }
        try directIO.writeHeldBytes()
        let end = directIO.length
        self.directIO = nil
        guard lseek(descriptor, off_t(end), SEEK_SET) >= 0 else {
            throw .cannotWrite(path: path, reason: Self.lastErrorText())
        }
    }

    /// Opens an existing file for reading.
    static func openForReading(_ path: String) throws(CaptureError) -> CaptureFile {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotRead(path: path, reason: Self.lastErrorText()) }
        return CaptureFile(path: path, descriptor: fd)
    }

    /// Appends all of `bytes` (staged, with direct I/O), retrying partial writes and EINTR.
    func writeAll(_ bytes: UnsafeRawBufferPointer) throws(CaptureError) {
        if let directIO {
            try directIO.append(bytes)
            appended(bytes.count)
            return
        }
        guard var base = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let n = Glibc.write(descriptor, base, left)
            if n < 0 {
                if errno == EINTR { continue }
                throw .cannotWrite(path: path, reason: Self.lastErrorText())
            }
            if n == 0 { throw .cannotWrite(path: path, reason: "the disk accepted no bytes") }
            left -= n
            base += n
            appended(n)
        }
    }

    /// Bookkeeping after `count` bytes were appended (see `WrittenPageRelease`; with
    /// direct I/O only bulk appends leave pages behind, but counting every byte
    /// keeps the windows at the file's offsets).
    func appended(_ count: Int) {
        pageRelease?.appended(count, descriptor: descriptor)
    }

    func writeAll(_ bytes: [UInt8]) throws(CaptureError) {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(CaptureError) in try writeAll(raw) }
        }
        try result.get()
    }

    /// Reads up to `buffer.count` bytes at `offset`; returns how many (0 at end of file).
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(CaptureError) -> Int {
        while true {
            let n = pread(descriptor, buffer.baseAddress, buffer.count, off_t(offset))
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw .cannotRead(path: path, reason: Self.lastErrorText())
        }
    }

    /// Up to `count` bytes at `offset`: fewer only where the file ends. The array is
    /// read into as allocated (not zeroed first: a read-ahead window is 8 KiB).
    func read(count: Int, at offset: UInt64) throws(CaptureError) -> [UInt8] {
        var failure: CaptureError?
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initializedCount in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            var filled = 0
            while filled < count {
                do throws(CaptureError) {
                    let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: raw[filled..<count]),
                                     at: offset + UInt64(filled))
                    if n == 0 { break }
                    filled += n
                } catch {
                    failure = error
                    break
                }
            }
            initializedCount = failure == nil ? filled : 0
        }
        if let failure { throw failure }
        return bytes
    }

    /// Reads sequentially from the current position; returns 0 at end of file.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(CaptureError) -> Int {
        while true {
            let n = Glibc.read(descriptor, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw .cannotRead(path: path, reason: Self.lastErrorText())
        }
    }

    /// Makes every appended byte durable: `makeVisible()`, then fsync.
    func sync() throws(CaptureError) {
        if let directIO { return try directIO.sync() }
        if fsync(descriptor) != 0 { throw .cannotWrite(path: path, reason: Self.lastErrorText()) }
    }

    /// Closes the file. Bytes still staged (see `makeVisible`) are dropped: `sync()` first.
    func close() {
        directIO = nil
        if descriptor >= 0 {
            _ = Glibc.close(descriptor)
            descriptor = -1
        }
    }

    /// The whole (small) file, e.g. session.json. Not for bodies or events.
    static func readSmallFile(_ path: String, limit: Int = 16 << 20) throws(CaptureError) -> [UInt8] {
        let file = try openForReading(path)
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = try chunk.withUnsafeMutableBytes { raw in
                Result { () throws(CaptureError) in try file.read(into: raw) }
            }.get()
            if n == 0 { break }
            result.append(contentsOf: chunk[0..<n])
            if result.count > limit { throw .cannotRead(path: path, reason: "larger than \(limit) bytes") }
        }
        return result
    }

    /// Writes `bytes` to `path` atomically: a 0600 temporary file beside it,
    /// fsync, rename over `path`, fsync of the directory.
    static func replaceAtomically(_ path: String, with bytes: [UInt8], directory: String) throws(CaptureError) {
        let temporary = path + ".tmp"
        _ = unlink(temporary)
        let file = try create(temporary)
        try file.writeAll(bytes)
        try file.sync()
        file.close()
        guard rename(temporary, path) == 0 else {
            throw .cannotWrite(path: path, reason: lastErrorText())
        }
        syncDirectory(directory)
    }

    /// fsyncs a directory so renames and new files in it are durable (best effort).
    static func syncDirectory(_ directory: String) {
        let fd = Glibc.open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            _ = fsync(fd)
            _ = Glibc.close(fd)
        }
    }

    /// Writes a line to standard error (unbuffered, safe from any thread).
    static func printError(_ message: String) {
        var text = message
        if !text.hasSuffix("\n") { text += "\n" }
        text.withUTF8 { utf8 in _ = Glibc.write(STDERR_FILENO, utf8.baseAddress, utf8.count) }
    }

    /// pwrite until all of `bytes` is at `offset` (EINTR and short writes retried).
    /// Returns 0, the errno of the failed call, or -1 when the disk took no bytes.
    static func positionedWrite(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32, at offset: UInt64) -> Int32 {
        var done = 0
        while done < bytes.count {
            let n = pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset + UInt64(done)))
            if n < 0 {
                if errno == EINTR { continue }
                return errno
            }
            if n == 0 { return -1 }
            done += n
        }
        return 0
    }

    /// The error for a `positionedWrite` result other than 0.
    static func writeError(path: String, code: Int32) -> CaptureError {
        .cannotWrite(path: path, reason: code < 0 ? "the disk accepted no bytes" : String(cString: strerror(code)))
    }

    /// strerror of the current errno.
    static func lastErrorText() -> String {
        let code = errno
        return String(cString: strerror(code))
    }
}
