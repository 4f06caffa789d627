import TaplineHTTPClient

/// Where `--target URL` sends every flow: `http://`, `https://` or `h2c://`
/// `host[:port]` (no path). `h2c://` is plain TCP speaking HTTP/2 by prior knowledge
/// (RFC 9113 §3.3) for every flow; `http://` is HTTP/1.1 for every flow; `https://`
/// offers ALPN as each flow was recorded (`ReplayRequestRewriter`).
/// A value type.
public struct ReplayTarget: Sendable, Equatable {
    public let upstream: UpstreamTarget
    /// Every flow speaks HTTP/2 without asking (`h2c://`).
    public let priorKnowledgeHTTP2: Bool

    public init(upstream: UpstreamTarget, priorKnowledgeHTTP2: Bool = false) {
        self.upstream = upstream
        self.priorKnowledgeHTTP2 = priorKnowledgeHTTP2
    }

    /// Parses `--target`; the error says what is wrong with `url`.
    public init(url: String) throws(ReplayUsageError) {
        do {
            let parsed = try UpstreamTarget.parseAllowingH2C(url)
            self.init(upstream: parsed.target, priorKnowledgeHTTP2: parsed.priorKnowledgeHTTP2)
        } catch {
            let isH2C = url.lowercased().hasPrefix("h2c://")
            throw ReplayUsageError("--target \(url.debugDescription): \(isH2C ? "give h2c://host[:port]" : error.reason) (http://, https:// or h2c:// and host[:port])")
        }
    }
}
