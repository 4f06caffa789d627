/// What an idle upstream leg is parked under in an `UpstreamLegPool`, and what a
/// request must match to be handed it: the origin (scheme, host, port) and how the
/// connection was asked for (`UpstreamProtocolOffer`). So an HTTP/1.1-only connection
/// never goes to an owner that offered h2, nor an h2 one to an owner that asked for
/// HTTP/1.1 only.
///
/// Immutable. The ALPN list is dropped for a plain-TCP target (nothing is offered there),
/// so two owners that differ only in what they would offer on TLS share plain connections.
/// Only what identifies the origin is kept (not the target's formatted authority), so a
/// key is cheap to make and compare once per request.
public struct UpstreamPoolKey: Sendable, Hashable, CustomStringConvertible {
    public let scheme: UpstreamTarget.Scheme
    public let host: String
    public let port: Int
    public let offer: UpstreamProtocolOffer

    public init(target: UpstreamTarget, offer: UpstreamProtocolOffer) {
        scheme = target.scheme
        host = target.host
        port = target.port
        self.offer = target.scheme == .https || offer.alpn.isEmpty
            ? offer : UpstreamProtocolOffer(alpn: [], priorKnowledgeHTTP2: offer.priorKnowledgeHTTP2)
    }

    /// `UpstreamPoolKey(target: target, offer: offer) == self`, without making the key.
    @inline(__always)
    func matches(_ target: UpstreamTarget, _ offer: UpstreamProtocolOffer) -> Bool {
        port == target.port && host == target.host && scheme == target.scheme
            && self.offer.priorKnowledgeHTTP2 == offer.priorKnowledgeHTTP2
            && (scheme == .https ? self.offer.alpn == offer.alpn : true)
    }

    // Compared once or twice per request (`UpstreamLegPool` checks the bucket it used
    // last): the port first, then what differs least often.
    public static func == (lhs: UpstreamPoolKey, rhs: UpstreamPoolKey) -> Bool {
        lhs.port == rhs.port && lhs.host == rhs.host && lhs.scheme == rhs.scheme && lhs.offer == rhs.offer
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(host)
        hasher.combine(port)
        hasher.combine(scheme)
        hasher.combine(offer)
    }

    public var description: String {
        let target = UpstreamTarget(scheme: scheme, host: host, port: port)
        let alpn = offer.alpn.isEmpty ? "" : " alpn=\(offer.alpn.joined(separator: ","))"
        return "\(target)\(alpn)\(offer.priorKnowledgeHTTP2 ? " prior-knowledge-h2" : "")"
    }
}
