import COpenSSL
import Foundation
import Glibc

/// The interception CA's files in a Tapline home: `ca.pem` (certificate, 0644),
/// `ca-key.pem` (key, 0600) and `ca.lock` (0600, always empty), in a directory
/// created 0700.
///
/// Invariant: the pair on disk always belongs together, even when several
/// processes (two `tapline proxy` started at once, a `tapline ca --regenerate`)
/// create or replace it concurrently. Every reader and writer holds an exclusive
/// `flock` on `ca.lock` while it checks, writes and loads the pair: a process
/// that finds no CA creates one, and every other waits and then loads that one
/// from disk. A new pair is written to temporary names, each fsynced, then both
/// renamed into place and the directory fsynced. A failed rename leaves the old
/// pair (the key being replaced is hard-linked aside first and put back if the
/// certificate's rename fails; see `write`). A crash leaves either the old pair,
/// the new one, or (between the two renames, which the lock hides from other
/// Tapline processes) a new key beside the old certificate, which the next load
/// reports with the remedy.
///
/// Without a lock file (a read-only home that holds a CA but no `ca.lock`) an
/// existing pair is loaded unlocked: nobody can write there either.
///
/// A value type with no state beyond the paths; safe from any thread (the lock
/// is per open file description, so it also orders threads of one process).
struct CertificateAuthorityFiles {
    let home: String
    var certificatePath: String { home + "/ca.pem" }
    var privateKeyPath: String { home + "/ca-key.pem" }
    var lockPath: String { home + "/ca.lock" }

    /// A new CA, PEM-encoded: what `loadOrCreate` and `replace` write.
    typealias PEMPair = (certificate: String, key: String)

    /// The pair on disk, created by `make` first if there is none. Returns owned
    /// references (certificate, key) that belong together.
    func loadOrCreate(_ make: () throws(TLSError) -> PEMPair) throws(TLSError) -> (OpaquePointer, OpaquePointer) {
        try prepareDirectory()
        return try withExclusiveLock { () throws(TLSError) in
            if !Self.fileExists(certificatePath) && !Self.fileExists(privateKeyPath) {
                try write(try make())
            }
            return try loadPair()
        }
    }

    /// Replaces the pair on disk with the one `make` returns and loads it back.
    func replace(_ make: () throws(TLSError) -> PEMPair) throws(TLSError) -> (OpaquePointer, OpaquePointer) {
        try prepareDirectory()
        return try withExclusiveLock { () throws(TLSError) in
            try write(try make())
            return try loadPair()
        }
    }

    // MARK: Lock

    /// Runs `body` holding an exclusive `flock` on `ca.lock` (waiting for other
    /// holders), released when it returns or throws.
    private func withExclusiveLock<T>(_ body: () throws(TLSError) -> T) throws(TLSError) -> T {
        let descriptor = open(lockPath, O_RDONLY | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            let reason = errno
            if (reason == EACCES || reason == EROFS) && Self.fileExists(certificatePath) && Self.fileExists(privateKeyPath) {
                return try body()
            }
            throw .certificateAuthority("cannot lock the Tapline CA: cannot create \(lockPath): \(String(cString: strerror(reason))); make \(home) writable or set TAPLINE_HOME to a directory you own")
        }
        defer { close(descriptor) }  // closing releases the lock
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else {
                throw .certificateAuthority("cannot lock the Tapline CA: flock \(lockPath): \(String(cString: strerror(errno)))")
            }
        }
        return try body()
    }

    // MARK: Writing

    /// Creates `home` (0700) and its missing parents when absent.
    private func prepareDirectory() throws(TLSError) {
        var info = stat()
        if stat(home, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else {
                throw .certificateAuthority("cannot use \(home) as the Tapline home: it is not a directory")
            }
            return
        }
        do {
            let parent = (home as NSString).deletingLastPathComponent
            if !parent.isEmpty {
                try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
            }
        } catch {
            throw .certificateAuthority("cannot create the Tapline home \(home): \(error.localizedDescription)")
        }
        if mkdir(home, 0o700) != 0, errno != EEXIST {
            throw .certificateAuthority("cannot create the Tapline home \(home): \(String(cString: strerror(errno)))")
        }
        _ = chmod(home, 0o700)
    }

    /// Writes both files to temporary names (each fsynced), renames the key and
    /// then the certificate into place, and fsyncs the directory. Caller holds the lock.
    ///
    /// A key being replaced is first hard-linked to a backup name: if the
    /// certificate's rename then fails, the backup is renamed back over the new key
    /// (a new key with no previous one is removed), so the files are left as they
    /// were and the error says so. Only a crash between the renames leaves a new key
    /// beside the old certificate (and the backup, `ca-key.pem.previous-*`).
    private func write(_ pair: PEMPair) throws(TLSError) {
        let keyTemporary = try Self.writeTemporary(Array(pair.key.utf8), beside: privateKeyPath, mode: 0o600)
        let certificateTemporary: String
        do throws(TLSError) {
            certificateTemporary = try Self.writeTemporary(Array(pair.certificate.utf8), beside: certificatePath, mode: 0o644)
        } catch {
            unlink(keyTemporary)
            throw error
        }
        let previousKey: String?
        do throws(TLSError) {
            previousKey = try keepPreviousKey()
        } catch {
            unlink(keyTemporary)
            unlink(certificateTemporary)
            throw error
        }
        defer { if let previousKey { unlink(previousKey) } }
        guard rename(keyTemporary, privateKeyPath) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(keyTemporary)
            unlink(certificateTemporary)
            throw .certificateAuthority("cannot write \(privateKeyPath): \(reason); the CA files were not changed")
        }
        guard rename(certificateTemporary, certificatePath) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(certificateTemporary)
            throw restoreKey(from: previousKey, afterCertificateFailure: reason)
        }
        let directory = open(home, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directory >= 0, fsync(directory) == 0 else {
            let reason = String(cString: strerror(errno))
            if directory >= 0 { close(directory) }
            throw .certificateAuthority("cannot write the Tapline CA in \(home): fsync of the directory: \(reason)")
        }
        close(directory)
    }

    /// Hard-links the key on disk (if any) to a backup name beside it and returns
    /// that name; nil when there is no key to keep.
    private func keepPreviousKey() throws(TLSError) -> String? {
        guard Self.fileExists(privateKeyPath) else { return nil }
        let backup = "\(privateKeyPath).previous-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        guard link(privateKeyPath, backup) == 0 else {
            throw .certificateAuthority("cannot replace the Tapline CA: cannot keep \(privateKeyPath) as \(backup) while replacing it: \(String(cString: strerror(errno))); the CA files were not changed")
        }
        return backup
    }

    /// After the new key was renamed into place but the certificate's rename
    /// failed with `reason`: puts the previous key back (or removes the new one if
    /// there was none) and returns the error to report.
    private func restoreKey(from previousKey: String?, afterCertificateFailure reason: String) -> TLSError {
        let failure = "cannot write \(certificatePath): \(reason)"
        let restored = previousKey.map { rename($0, privateKeyPath) == 0 } ?? (unlink(privateKeyPath) == 0)
        guard restored else {
            return .certificateAuthority("\(failure); then could not put the previous key back (\(String(cString: strerror(errno)))), so \(privateKeyPath) is not the key of \(certificatePath): run `tapline ca --regenerate` once \(certificatePath) can be written")
        }
        return .certificateAuthority("\(failure); the previous CA files were kept")
    }

    /// Writes `bytes` to a new file beside `path` with `mode` and fsyncs it;
    /// returns its name. Nothing is left behind when it throws. (`ClientTrustFiles`
    /// writes its files the same way.)
    static func writeTemporary(_ bytes: [UInt8], beside path: String, mode: mode_t) throws(TLSError) -> String {
        let temporary = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else {
            throw .certificateAuthority("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        var failure: Int32 = 0
        var offset = 0
        bytes.withUnsafeBytes { raw in
            while offset < raw.count {
                let n = Glibc.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                offset += n
            }
        }
        if failure == 0, fchmod(descriptor, mode) != 0 { failure = errno }
        if failure == 0, fsync(descriptor) != 0 { failure = errno }
        if close(descriptor) != 0, failure == 0 { failure = errno }
        guard failure == 0 else {
            unlink(temporary)
            throw .certificateAuthority("cannot write \(path): \(String(cString: strerror(failure)))")
        }
        return temporary
    }

    // MARK: Loading

    /// Loads the pair and checks that the key is the certificate's. Caller holds the lock.
    private func loadPair() throws(TLSError) -> (OpaquePointer, OpaquePointer) {
        switch (Self.fileExists(certificatePath), Self.fileExists(privateKeyPath)) {
        case (true, true):
            break
        case (true, false):
            throw .certificateAuthority("cannot load the Tapline CA: \(privateKeyPath) is missing but \(certificatePath) exists; restore it, or delete \(certificatePath) or run `tapline ca --regenerate`")
        case (false, true):
            throw .certificateAuthority("cannot load the Tapline CA: \(certificatePath) is missing but \(privateKeyPath) exists; restore it, or delete \(privateKeyPath) or run `tapline ca --regenerate`")
        case (false, false):
            throw .certificateAuthority("cannot load the Tapline CA: \(certificatePath) and \(privateKeyPath) are missing")
        }
        let certificate = try loadCertificate()
        let key: OpaquePointer
        do throws(TLSError) {
            key = try loadKey()
        } catch {
            X509_free(certificate)
            throw error
        }
        guard X509_check_private_key(certificate, key) == 1 else {
            X509_free(certificate)
            EVP_PKEY_free(key)
            ERR_clear_error()
            throw .certificateAuthority("cannot load the Tapline CA: \(privateKeyPath) is not the key of \(certificatePath); delete both or run `tapline ca --regenerate`")
        }
        return (certificate, key)
    }

    private func loadCertificate() throws(TLSError) -> OpaquePointer {
        let certificates: [OpaquePointer]
        do {
            certificates = try PEMFile.certificates(at: certificatePath)
        } catch {
            throw Self.loadFailure(error, path: certificatePath, what: "certificate")
        }
        certificates.dropFirst().forEach { X509_free($0) }
        return certificates[0]
    }

    private func loadKey() throws(TLSError) -> OpaquePointer {
        do {
            return try PEMFile.privateKey(at: privateKeyPath)
        } catch {
            throw Self.loadFailure(error, path: privateKeyPath, what: "key")
        }
    }

    private static func loadFailure(_ failure: PEMFileFailure, path: String, what: String) -> TLSError {
        switch failure {
        case .unreadable(let reason):
            return .certificateAuthority("cannot load the Tapline CA: cannot read \(path): \(reason)")
        case .notPEM, .encrypted:
            return .certificateAuthority("cannot load the Tapline CA: \(path) is not a valid PEM \(what)\(what == "key" ? " (or is encrypted)" : ""); delete it or run `tapline ca --regenerate`")
        }
    }

    private static func fileExists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }
}
