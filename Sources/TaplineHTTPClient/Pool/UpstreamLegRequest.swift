/// What an owner asks an `UpstreamLegSource` for: a leg to `target`, speaking what
/// `offer` asks for, a pooled one only when `mayReuse`.
///
/// Immutable (the timings box is the flow's, filled in as a new connection is made).
public struct UpstreamLegRequest {
    public let target: UpstreamTarget
    public let offer: UpstreamProtocolOffer
    /// False when the request needs a connection of its own: a resend after a reused
    /// connection was found closed (`StaleConnectionRetryRule`), a WebSocket that takes
    /// its connection for good.
    public let mayReuse: Bool
    /// Where a new connection's setup (DNS, connect, TLS) is stamped; a pooled leg stamps nothing.
    public let timings: FlowTimingsBox

    public init(target: UpstreamTarget, offer: UpstreamProtocolOffer, mayReuse: Bool = true, timings: FlowTimingsBox) {
        self.target = target
        self.offer = offer
        self.mayReuse = mayReuse
        self.timings = timings
    }

    public var key: UpstreamPoolKey { UpstreamPoolKey(target: target, offer: offer) }
}
