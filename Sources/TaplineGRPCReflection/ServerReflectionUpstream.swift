import TaplineHTTPClient

/// The server a reflection conversation goes to: `h2c://host[:port]` (plain TCP, HTTP/2
/// by prior knowledge, RFC 9113 §3.3) or `https://host[:port]` (TLS, ALPN `h2`).
/// The key of `ServerReflectionCache`. A value type.
public struct ServerReflectionUpstream: Sendable, Hashable, CustomStringConvertible {
    public let target: UpstreamTarget
    /// Plain TCP speaking HTTP/2 from the first byte (`h2c://`).
    public let priorKnowledgeHTTP2: Bool

    public init(target: UpstreamTarget, priorKnowledgeHTTP2: Bool) {
        self.target = target
        self.priorKnowledgeHTTP2 = priorKnowledgeHTTP2
    }

    /// Parses `h2c://host[:port]` or `https://host[:port]`; the error says how to write it instead.
    public init(url: String) throws(InvalidUpstreamTarget) {
        let lower = url.lowercased()
        guard lower.hasPrefix("h2c://") || lower.hasPrefix("https://") else {
            throw InvalidUpstreamTarget(url: url, reason: "gRPC reflection needs HTTP/2: give h2c://host[:port] or https://host[:port]")
        }
        let parsed = try UpstreamTarget.parseAllowingH2C(url)
        self.init(target: parsed.target, priorKnowledgeHTTP2: parsed.priorKnowledgeHTTP2)
    }

    /// What the connection offers: HTTP/2 by prior knowledge on h2c, ALPN `h2` alone on TLS.
    public var offer: UpstreamProtocolOffer {
        priorKnowledgeHTTP2 ? UpstreamProtocolOffer(alpn: [], priorKnowledgeHTTP2: true) : UpstreamProtocolOffer(alpn: ["h2"])
    }

    public var description: String { priorKnowledgeHTTP2 ? "h2c://\(target.hostPort)" : target.description }
}
