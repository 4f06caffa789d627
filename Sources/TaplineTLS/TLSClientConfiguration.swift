/// How to open a TLS connection to an upstream (TLS 1.2 or 1.3). A value type:
/// build one per connection freely; the expensive part is cached process-wide.
public struct TLSClientConfiguration: Sendable {
    /// SNI and the name verified against the certificate (a host name or IP literal).
    public var serverName: String
    /// ALPN protocols to offer, in preference order (empty: no ALPN).
    public var alpn: [String]
    /// Verify the upstream chain and name (default). `--insecure` turns this off.
    public var verifyPeer: Bool
    /// Extra trusted CA certificates (PEM file) beside the system store (`--upstream-ca`).
    /// Read once per process: engines with the same (verifyPeer, file) share one
    /// `SSL_CTX`, so later edits to the file are not seen until restart.
    public var additionalTrustPEMFile: String?

    public init(serverName: String, alpn: [String] = [], verifyPeer: Bool = true, additionalTrustPEMFile: String? = nil) {
        self.serverName = serverName
        self.alpn = alpn
        self.verifyPeer = verifyPeer
        self.additionalTrustPEMFile = additionalTrustPEMFile
    }
}
