import Glibc

/// The `writer.lock` file of a session directory: the writing process holds an
/// exclusive `flock` on it from before session.json is first written until the
/// session is closed, so a reader can tell a session still being written from
/// one whose writer died (`"ended": null` in both cases).
///
/// The kernel drops the lock when the process exits, however it exits, so a
/// killed proxy never leaves a session that looks alive. Sessions written
/// before this file existed have none (`WriterState.unknown`).
///
/// Thread ownership: a lock object belongs to the `CaptureWriter` that took it
/// and is released by its writer thread once session.json is final (or when the
/// object goes away). `writerState(directory:)` only opens and locks the file;
/// any thread.
final class SessionWriterLock {
    /// The lock file's name inside the session directory.
    static let fileName = "writer.lock"

    /// What a reader can tell about a session's writer.
    enum WriterState: Equatable {
        /// A process holds the lock: the session is still being written.
        case alive
        /// The lock file exists and nobody holds it: the writer has gone.
        case gone
        /// No lock file (a session from an older tapline, or copied without it).
        case unknown
    }

    private var descriptor: Int32

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// Creates `writer.lock` (0600, exclusive) in `directory` and takes the exclusive lock.
    ///
    /// - Throws: `cannotCreate` naming the file and the system's reason.
    static func acquire(directory: String) throws(CaptureError) -> SessionWriterLock {
        let path = directory + "/" + fileName
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .cannotCreate(path: path, reason: CaptureFile.lastErrorText()) }
        var result: Int32
        repeat { result = flock(fd, LOCK_EX | LOCK_NB) } while result != 0 && errno == EINTR
        guard result == 0 else {
            let reason = CaptureFile.lastErrorText()
            _ = close(fd)
            throw .cannotCreate(path: path, reason: "cannot lock it: \(reason)")
        }
        return SessionWriterLock(descriptor: fd)
    }

    /// Lets go of the lock (the file stays, unlocked: readers then see `.gone`). Idempotent.
    func release() {
        guard descriptor >= 0 else { return }
        _ = close(descriptor)  // closing the only descriptor of the open file drops the flock
        descriptor = -1
    }

    deinit { release() }

    /// Whether a process is writing the session in `directory`: tries to take a
    /// shared lock without waiting (and lets go of it at once).
    static func writerState(directory: String) -> WriterState {
        let fd = open(directory + "/" + fileName, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .unknown }
        defer { _ = close(fd) }
        var result: Int32
        repeat { result = flock(fd, LOCK_SH | LOCK_NB) } while result != 0 && errno == EINTR
        if result == 0 { return .gone }
        return errno == EWOULDBLOCK ? .alive : .unknown
    }
}
