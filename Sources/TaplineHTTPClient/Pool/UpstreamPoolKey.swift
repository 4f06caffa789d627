/// What an idle upstream leg is parked under in an `UpstreamLegPool`, and what a
/// request must match to be handed it: the origin (scheme, host, port) and how the
/// connection was asked for (`UpstreamProtocolOffer`). So an HTTP/1.1-only connection
/// never goes to an owner that offered h2, nor an h2 one to an owner that asked for
/// HTTP/1.1 only.
///
/// Immutable. The ALPN list is dropped for a plain-TCP target (nothing is offered there),
/// so two owners that differ only in what they would offer on TLS share plain connections.
public struct UpstreamPoolKey: Sendable, Hashable, CustomStringConvertible {
    public let target: UpstreamTarget
    public let offer: UpstreamProtocolOffer

    public init(target: UpstreamTarget, offer: UpstreamProtocolOffer) {
        self.target = target
        self.offer = UpstreamProtocolOffer(alpn: offer.alpn(for: target.scheme),
                                           priorKnowledgeHTTP2: offer.priorKnowledgeHTTP2)
    }

    // Hashes what identifies the origin once (the target's formatted fields follow from it).
    public func hash(into hasher: inout Hasher) {
        hasher.combine(target.host)
        hasher.combine(target.port)
        hasher.combine(target.scheme)
        hasher.combine(offer)
    }

    public static func == (lhs: UpstreamPoolKey, rhs: UpstreamPoolKey) -> Bool {
        lhs.target.port == rhs.target.port && lhs.target.scheme == rhs.target.scheme
            && lhs.target.host == rhs.target.host && lhs.offer == rhs.offer
    }

    public var description: String {
        let alpn = offer.alpn.isEmpty ? "" : " alpn=\(offer.alpn.joined(separator: ","))"
        return "\(target)\(alpn)\(offer.priorKnowledgeHTTP2 ? " prior-knowledge-h2" : "")"
    }
}
