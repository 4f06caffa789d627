/// Identifying parts of a peer's X.509 certificate.
public struct PeerCertificate: Sendable, Equatable {
    /// RFC 2253 one-line subject and issuer.
    public var subject: String
    public var issuer: String
    /// SHA-256 of the DER encoding, lowercase hex.
    public var sha256Fingerprint: String

    public init(subject: String, issuer: String, sha256Fingerprint: String) {
        self.subject = subject
        self.issuer = issuer
        self.sha256Fingerprint = sha256Fingerprint
    }
}
