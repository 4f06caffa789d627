import Glibc

/// Disk space a capture session holds back from its first moment (the file
/// `.reserve` in the session directory, allocated with `posix_fallocate`) so
/// that a full disk cannot take the end of the session with it: when a write
/// fails, the writer frees most of it to put the event lines it still holds in
/// events.jsonl (with the `writer-error` line), and the rest at close for
/// session.json's `ended` and `writerError`.
///
/// Sized for what the writer can hold back for events.jsonl: its two direct-I/O
/// staging buffers, plus `sessionFileBytes`. Body segments stage as much each and
/// are not counted: the writer salvages them only after the event lines, into
/// what room is left (`CaptureBatchWriter.fail`).
///
/// Thread ownership: created by `CaptureWriter.init`, then used only by the
/// writer thread (through `CaptureBatchWriter`).
final class CaptureSpaceReserve {
    /// What is kept after `shrinkToSessionFile()`: session.json and its temporary copy.
    static let sessionFileBytes = 64 << 10
    /// The whole reserve.
    static let defaultBytes = 2 * DirectIOAppender.defaultCapacity + sessionFileBytes

    let path: String
    private var descriptor: Int32

    /// Creates `path` (which must not exist) holding `bytes` of disk space.
    ///
    /// - Throws: `cannotCreate` when the space is not there (the disk is already
    ///   nearly full) or the file cannot be created.
    init(path: String, bytes: Int = defaultBytes) throws(CaptureError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .cannotCreate(path: path, reason: CaptureFile.lastErrorText()) }
        let code = posix_fallocate(descriptor, 0, off_t(bytes))
        guard code == 0 else {
            _ = Glibc.close(descriptor)
            _ = unlink(path)
            throw .cannotCreate(path: path, reason: "cannot reserve \(bytes / 1024) KiB for the end of the session: \(String(cString: strerror(code))); free some space or capture elsewhere (--capture DIR)")
        }
        self.path = path
        self.descriptor = descriptor
    }

    deinit { release() }

    /// Frees all but `sessionFileBytes`, for the event lines still to be written.
    func shrinkToSessionFile() {
        guard descriptor >= 0 else { return }
        _ = ftruncate(descriptor, off_t(Self.sessionFileBytes))
    }

    /// Frees the whole reserve and removes its file. Idempotent.
    func release() {
        guard descriptor >= 0 else { return }
        _ = Glibc.close(descriptor)
        descriptor = -1
        _ = unlink(path)
    }
}
