/// What was negotiated on one TLS leg, as recorded in a capture.
///
/// Immutable once made, and one reference wide: the fields live in a shared
/// object, so events that carry the details (`upstreamConnected` for every flow
/// on a TLS connection) stay small and copying them copies no strings.
public struct TLSDetails: Sendable, Equatable {
    /// The fields, never mutated after `init` (so sharing them is safe across threads).
    private final class Fields: Sendable {
        let version: String
        let cipher: String
        let serverName: String?
        let alpn: String?
        let peerCertificate: CertificateSummary?

        init(version: String, cipher: String, serverName: String?, alpn: String?, peerCertificate: CertificateSummary?) {
            self.version = version
            self.cipher = cipher
            self.serverName = serverName
            self.alpn = alpn
            self.peerCertificate = peerCertificate
        }
    }

    private let fields: Fields

    /// `TLSv1.3`, `TLSv1.2`.
    public var version: String { fields.version }
    /// OpenSSL's cipher name, e.g. `TLS_AES_128_GCM_SHA256`.
    public var cipher: String { fields.cipher }
    /// Server name sent by the client (SNI), if any.
    public var serverName: String? { fields.serverName }
    /// Protocol chosen by ALPN (`h2`, `http/1.1`), if any.
    public var alpn: String? { fields.alpn }
    /// The peer's leaf certificate (upstream legs only).
    public var peerCertificate: CertificateSummary? { fields.peerCertificate }

    public init(version: String, cipher: String, serverName: String? = nil, alpn: String? = nil,
                peerCertificate: CertificateSummary? = nil) {
        fields = Fields(version: version, cipher: cipher, serverName: serverName, alpn: alpn,
                        peerCertificate: peerCertificate)
    }

    public static func == (lhs: TLSDetails, rhs: TLSDetails) -> Bool {
        lhs.fields === rhs.fields
            || (lhs.version == rhs.version && lhs.cipher == rhs.cipher && lhs.serverName == rhs.serverName
                && lhs.alpn == rhs.alpn && lhs.peerCertificate == rhs.peerCertificate)
    }
}

/// The identifying parts of an X.509 certificate.
public struct CertificateSummary: Sendable, Equatable {
    /// One-line RFC 2253 subject, e.g. `CN=example.com,O=Example`.
    public var subject: String
    public var issuer: String
    /// SHA-256 of the DER encoding, lowercase hex without separators.
    public var sha256Fingerprint: String

    public init(subject: String, issuer: String, sha256Fingerprint: String) {
        self.subject = subject
        self.issuer = issuer
        self.sha256Fingerprint = sha256Fingerprint
    }
}
