import COpenSSL
import Foundation
import Glibc

/// Tapline's interception CA: created on first use in `$TAPLINE_HOME` (default
/// `~/.tapline`, created 0700) as `ca.pem` (certificate, 0644) and `ca-key.pem`
/// (key, 0600), under a lock so that processes started together all use one
/// pair (see `CertificateAuthorityFiles`); and the leaf certificates it mints
/// per SNI host (EC P-256, SAN set, 365 days), cached in memory.
///
/// Every instance holds the pair as loaded from disk, never a pair it only has
/// in memory: what it signs verifies against the `ca.pem` clients trust.
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
        let (certificate, key) = try CertificateAuthorityFiles(home: home).loadOrCreate(Self.makePEMPair)
        try self.init(home: home, certificate: certificate, key: key)
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

    /// Runs `body` with the CA certificate (borrowed: valid only during the call).
    func withCertificate<T, E: Error>(_ body: (OpaquePointer) throws(E) -> T) throws(E) -> T {
        try body(caCertificate)
    }

    deinit {
        X509_free(caCertificate)
        EVP_PKEY_free(caKey)
        EVP_PKEY_free(leafKey)
    }

    /// Replaces the CA with a new one (old leaf certificates stop being trusted;
    /// clients must trust the new `ca.pem`).
    public static func regenerate(home: String) throws(TLSError) -> CertificateAuthority {
        let (certificate, key) = try CertificateAuthorityFiles(home: home).replace(makePEMPair)
        return try CertificateAuthority(home: home, certificate: certificate, key: key)
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

    // MARK: New CA

    /// A new CA key and self-signed certificate, in PEM (written by `CertificateAuthorityFiles`).
    private static func makePEMPair() throws(TLSError) -> CertificateAuthorityFiles.PEMPair {
        let key = try CertificateBuilder.generateKey()
        defer { EVP_PKEY_free(key) }
        let certificate = try CertificateBuilder.makeCA(key: key, commonName: caCommonName())
        defer { X509_free(certificate) }
        guard let keyPEM = OpenSSLSupport.string(writing: { PEM_write_bio_PrivateKey($0, key, nil, nil, 0, nil, nil) }) else {
            throw .certificateAuthority("cannot encode the CA key: \(OpenSSLSupport.takeErrorReason() ?? "OpenSSL error")")
        }
        return (OpenSSLSupport.pem(of: certificate), keyPEM)
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
}
