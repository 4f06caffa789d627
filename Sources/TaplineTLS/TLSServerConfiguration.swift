/// How to accept a TLS connection from an intercepted client.
public struct TLSServerConfiguration: Sendable {
    /// The leaf certificate (and chain) to present.
    public var certificate: LeafCertificate
    /// The ALPN protocol to select when the client offers it (mirrors the upstream);
    /// nil: select none.
    public var alpn: String?

    public init(certificate: LeafCertificate, alpn: String?) {
        self.certificate = certificate
        self.alpn = alpn
    }
}
