/// Tapline's interception CA: created on first use in `$TAPLINE_HOME` (default
/// `~/.tapline`) as `ca.pem` (certificate) and `ca-key.pem` (key, mode 0600),
/// and the leaf certificates it mints per SNI host (EC P-256, SAN set, at most
/// 397 days), cached in memory.
///
/// Thread-safe: leaf minting and the cache are guarded by a lock.
public final class CertificateAuthority: @unchecked Sendable {
    /// The directory holding the CA files.
    public let home: String
    public var certificatePath: String { home + "/ca.pem" }
    public var privateKeyPath: String { home + "/ca-key.pem" }

    /// Loads the CA from `home`, creating it (and the directory, 0700) when absent.
    public init(home: String) throws(TLSError) {
        self.home = home
    }

    /// Replaces the CA with a new one (old leaf certificates stop being trusted).
    public static func regenerate(home: String) throws(TLSError) -> CertificateAuthority {
        try CertificateAuthority(home: home)
    }

    /// The CA certificate in PEM.
    public var certificatePEM: String { "" }

    /// SHA-256 fingerprint of the CA certificate, lowercase hex.
    public var sha256Fingerprint: String { "" }

    /// A leaf for `host` (a DNS name or IP literal), minted on first use and cached.
    public func leafCertificate(for host: String) throws(TLSError) -> LeafCertificate {
        LeafCertificate(host: host)
    }

    /// The default home: `$TAPLINE_HOME`, else `~/.tapline`.
    public static var defaultHome: String { "" }
}
