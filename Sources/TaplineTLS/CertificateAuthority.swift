import COpenSSL
import Foundation
import Glibc

/// Tapline's interception CA: created on first use in `$TAPLINE_HOME` (default
/// `~/.tapline`, created 0700) as `ca.pem` (certificate, 0644) and `ca-key.pem`
/// (key, 0600), each written atomically (temporary file, then rename); and the
/// leaf certificates it mints per SNI host (EC P-256, SAN set, 365 days), cached
/// in memory.
///
/// Leaf keys: one EC P-256 key pair per CA instance, generated in memory when
/// the CA is loaded and never written to disk, is shared by all the leaves that
/// instance mints. Minting then costs one signature, not a key generation too
/// (the same trade mitmproxy makes); a new process gets a new leaf key.
///
/// Leaf cache: at most `leafCacheLimit` leaves, kept in two generations (a hit
/// in the older one moves the leaf to the newer; when the newer fills up, the
/// older is dropped), which approximates LRU at O(1) per lookup.
///
/// Thread-safe: the CA's own key and certificate are immutable after init, and
/// the cache is guarded by a lock that is not held while minting (two threads
/// minting the same new host both sign; the first to store wins).
public final class CertificateAuthority: @unchecked Sendable {
    /// The directory holding the CA files.
    public let home: String
    public var certificatePath: String { home + "/ca.pem" }
    public var privateKeyPath: String { home + "/ca-key.pem" }

    /// The CA certificate in PEM.
    public let certificatePEM: String
    /// SHA-256 fingerprint of the CA certificate, lowercase hex.
    public let sha256Fingerprint: String

    /// The most leaves kept in memory.
    public static let leafCacheLimit = 10_000

    private let caCertificate: OpaquePointer
    private let caKey: OpaquePointer
    private let leafKey: OpaquePointer

    private let cacheLock = NSLock()
    private var recentLeaves: [String: LeafCertificate] = [:]
    private var olderLeaves: [String: LeafCertificate] = [:]

    /// Loads the CA from `home`, creating it (and the directory, 0700) when absent.
    /// Throws `.certificateAuthority` with the file and what to do when a file is
    /// unreadable, corrupt, or the key does not match the certificate.
    public convenience init(home: String) throws(TLSError) {
        try Self.prepareDirectory(home)
        let certPath = home + "/ca.pem", keyPath = home + "/ca-key.pem"
        let certExists = Self.fileExists(certPath), keyExists = Self.fileExists(keyPath)
        switch (certExists, keyExists) {
        case (false, false):
            let (cert, key) = try Self.createFiles(home: home)
            try self.init(home: home, certificate: cert, key: key)
        case (true, true):
            let cert = try Self.loadCertificate(certPath)
            let key: OpaquePointer
            do throws(TLSError) {
                key = try Self.loadKey(keyPath)
            } catch {
                X509_free(cert)
                throw error
            }
            guard X509_check_private_key(cert, key) == 1 else {
                X509_free(cert)
                EVP_PKEY_free(key)
                ERR_clear_error()
                throw .certificateAuthority("cannot load the Tapline CA: \(keyPath) is not the key of \(certPath); delete both or run `tapline ca --regenerate`")
            }
            try self.init(home: home, certificate: cert, key: key)
        case (true, false):
            throw .certificateAuthority("cannot load the Tapline CA: \(keyPath) is missing but \(certPath) exists; restore it, or delete \(certPath) or run `tapline ca --regenerate`")
        case (false, true):
            throw .certificateAuthority("cannot load the Tapline CA: \(certPath) is missing but \(keyPath) exists; restore it, or delete \(keyPath) or run `tapline ca --regenerate`")
        }
    }

    /// Takes ownership of `certificate` and `key` (freed here if init fails).
    private init(home: String, certificate: OpaquePointer, key: OpaquePointer) throws(TLSError) {
        let leafKey: OpaquePointer
        do throws(TLSError) {
            leafKey = try CertificateBuilder.generateKey()
        } catch {
            X509_free(certificate)
            EVP_PKEY_free(key)
            throw error
        }
        self.home = home
        self.caCertificate = certificate
        self.caKey = key
        self.leafKey = leafKey
        self.certificatePEM = OpenSSLSupport.pem(of: certificate)
        self.sha256Fingerprint = OpenSSLSupport.sha256Fingerprint(of: certificate)
    }

    deinit {
        X509_free(caCertificate)
        EVP_PKEY_free(caKey)
        EVP_PKEY_free(leafKey)
    }

    /// Replaces the CA with a new one (old leaf certificates stop being trusted;
    /// clients must trust the new `ca.pem`).
    public static func regenerate(home: String) throws(TLSError) -> CertificateAuthority {
        try prepareDirectory(home)
        let (cert, key) = try createFiles(home: home)
        return try CertificateAuthority(home: home, certificate: cert, key: key)
    }

    /// The default home: `$TAPLINE_HOME`, else `$HOME/.tapline`.
    public static var defaultHome: String {
        let environment = ProcessInfo.processInfo.environment
        if let home = environment["TAPLINE_HOME"], !home.isEmpty { return home }
        if let home = environment["HOME"], !home.isEmpty { return home + "/.tapline" }
        if let entry = getpwuid(getuid()), let dir = entry.pointee.pw_dir { return String(cString: dir) + "/.tapline" }
        return ".tapline"
    }

    /// A leaf for `host` (a DNS name, possibly "*."-wildcarded, or an IPv4/IPv6
    /// literal, brackets allowed), minted on first use and cached by its
    /// normalized name. Throws `.certificateAuthority` for a name that cannot go
    /// in a certificate (it comes from a client's SNI: never trusted).
    public func leafCertificate(for host: String) throws(TLSError) -> LeafCertificate {
        let name = HostName.normalized(host)
        if let leaf = cachedLeaf(for: name) { return leaf }
        let isIP = HostName.isIPLiteral(name)
        guard isIP || HostName.isValidDNSName(name) else {
            throw .certificateAuthority("cannot mint a certificate for \"\(host)\": not a valid host name or IP address")
        }
        let cert = try CertificateBuilder.makeLeaf(host: name, isIPLiteral: isIP, publicKey: leafKey,
                                                   issuer: caCertificate, issuerKey: caKey)
        let leaf = try LeafCertificate(host: name, certificate: cert, privateKey: leafKey, chain: [caCertificate],
                                       source: "the minted certificate for \(name)")
        return store(leaf, for: name)
    }

    /// The number of leaves cached now (for tests and diagnostics).
    public var cachedLeafCount: Int {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        return recentLeaves.count + olderLeaves.count
    }

    // MARK: Leaf cache

    private func cachedLeaf(for name: String) -> LeafCertificate? {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        if let leaf = recentLeaves[name] { return leaf }
        if let leaf = olderLeaves.removeValue(forKey: name) {
            insertLocked(leaf, for: name)
            return leaf
        }
        return nil
    }

    private func store(_ leaf: LeafCertificate, for name: String) -> LeafCertificate {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        if let existing = recentLeaves[name] { return existing }
        if let existing = olderLeaves.removeValue(forKey: name) {
            insertLocked(existing, for: name)
            return existing
        }
        insertLocked(leaf, for: name)
        return leaf
    }

    private func insertLocked(_ leaf: LeafCertificate, for name: String) {
        if recentLeaves.count >= Self.leafCacheLimit / 2 {
            olderLeaves = recentLeaves
            recentLeaves = [:]
        }
        recentLeaves[name] = leaf
    }

    // MARK: Files

    private static func prepareDirectory(_ home: String) throws(TLSError) {
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

    private static func fileExists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// Makes a new CA and writes it: the key first, then the certificate, each
    /// atomically. Returns owned references.
    private static func createFiles(home: String) throws(TLSError) -> (OpaquePointer, OpaquePointer) {
        let key = try CertificateBuilder.generateKey()
        let cert: OpaquePointer
        do throws(TLSError) {
            cert = try CertificateBuilder.makeCA(key: key, commonName: caCommonName())
            do throws(TLSError) {
                guard let keyPEM = OpenSSLSupport.string(writing: { PEM_write_bio_PrivateKey($0, key, nil, nil, 0, nil, nil) }) else {
                    throw TLSError.certificateAuthority("cannot encode the CA key: \(OpenSSLSupport.takeErrorReason() ?? "OpenSSL error")")
                }
                try writeAtomically(Array(keyPEM.utf8), to: home + "/ca-key.pem", mode: 0o600)
                try writeAtomically(Array(OpenSSLSupport.pem(of: cert).utf8), to: home + "/ca.pem", mode: 0o644)
            } catch {
                X509_free(cert)
                throw error
            }
        } catch {
            EVP_PKEY_free(key)
            throw error
        }
        return (cert, key)
    }

    /// "Tapline CA (<hostname>)", at most 64 bytes.
    private static func caCommonName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        var host = "localhost"
        if gethostname(&buffer, buffer.count - 1) == 0 {
            let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if !name.isEmpty { host = name }
        }
        let room = 64 - "Tapline CA ()".utf8.count
        return "Tapline CA (\(String(decoding: host.utf8.prefix(room), as: UTF8.self)))"
    }

    /// Writes `bytes` to a new temporary file beside `path` with `mode`, syncs it,
    /// then renames it over `path`: readers see the old file or the new one.
    private static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t) throws(TLSError) {
        let temporary = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw .certificateAuthority("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        var failure: Int32 = 0
        var offset = 0
        bytes.withUnsafeBytes { raw in
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                offset += n
            }
        }
        if failure == 0, fchmod(fd, mode) != 0 { failure = errno }
        if failure == 0, fsync(fd) != 0 { failure = errno }
        if Glibc.close(fd) != 0, failure == 0 { failure = errno }
        if failure == 0, rename(temporary, path) != 0 { failure = errno }
        if failure != 0 {
            unlink(temporary)
            throw .certificateAuthority("cannot write \(path): \(String(cString: strerror(failure)))")
        }
    }

    private static func loadCertificate(_ path: String) throws(TLSError) -> OpaquePointer {
        let certificates: [OpaquePointer]
        do {
            certificates = try PEMFile.certificates(at: path)
        } catch {
            throw loadFailure(error, path: path, what: "certificate")
        }
        certificates.dropFirst().forEach { X509_free($0) }
        return certificates[0]
    }

    private static func loadKey(_ path: String) throws(TLSError) -> OpaquePointer {
        do {
            return try PEMFile.privateKey(at: path)
        } catch {
            throw loadFailure(error, path: path, what: "key")
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
}
