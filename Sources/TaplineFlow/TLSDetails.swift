/// What was negotiated on one TLS leg, as recorded in a capture.
public struct TLSDetails: Sendable, Equatable {
    /// `TLSv1.3`, `TLSv1.2`.
    public var version: String
    /// OpenSSL's cipher name, e.g. `TLS_AES_128_GCM_SHA256`.
    public var cipher: String
    /// Server name sent by the client (SNI), if any.
    public var serverName: String?
    /// Protocol chosen by ALPN (`h2`, `http/1.1`), if any.
    public var alpn: String?
    /// The peer's leaf certificate (upstream legs only).
    public var peerCertificate: CertificateSummary?

    public init(version: String, cipher: String, serverName: String? = nil, alpn: String? = nil,
                peerCertificate: CertificateSummary? = nil) {
        self.version = version
        self.cipher = cipher
        self.serverName = serverName
        self.alpn = alpn
        self.peerCertificate = peerCertificate
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
