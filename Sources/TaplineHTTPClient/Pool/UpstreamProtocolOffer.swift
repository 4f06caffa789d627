/// Which HTTP versions an owner asks an upstream connection for: the ALPN protocols
/// offered in the TLS handshake, and whether HTTP/2 is spoken without asking (h2c or
/// h2 "prior knowledge", RFC 9113 §3.3). Part of an `UpstreamPoolKey`: a connection is
/// only reused for an owner that asked for it the same way.
///
/// Immutable.
public struct UpstreamProtocolOffer: Sendable, Hashable {
    /// Offered on TLS only (a plain connection offers nothing); most preferred first.
    public let alpn: [String]
    /// The connection speaks HTTP/2 from its first byte, whatever ALPN says.
    public let priorKnowledgeHTTP2: Bool

    public init(alpn: [String], priorKnowledgeHTTP2: Bool = false) {
        self.alpn = alpn
        self.priorKnowledgeHTTP2 = priorKnowledgeHTTP2
    }

    /// HTTP/1.1 only: `http/1.1` on TLS.
    public static let http1 = UpstreamProtocolOffer(alpn: ["http/1.1"])
    /// Either version, the server's choice on TLS: `h2, http/1.1`.
    public static let http2OrHTTP1 = UpstreamProtocolOffer(alpn: ["h2", "http/1.1"])

    /// What the TLS handshake with `scheme`'s target offers (nothing on plain TCP).
    public func alpn(for scheme: UpstreamTarget.Scheme) -> [String] {
        scheme == .https ? alpn : []
    }
}
