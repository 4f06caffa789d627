import TaplineFlow
import TaplineTLS

extension TLSDetails {
    /// What `engine` negotiated, for the capture.
    public init(engine: TLSEngine, serverName: String?) {
        self.init(version: engine.protocolVersion ?? "unknown", cipher: engine.cipherName ?? "unknown",
                  serverName: serverName, alpn: engine.negotiatedALPN,
                  peerCertificate: engine.peerCertificate.map {
                      CertificateSummary(subject: $0.subject, issuer: $0.issuer, sha256Fingerprint: $0.sha256Fingerprint)
                  })
    }
}
