/// What an owner asks an `UpstreamLegSource` for: a leg to `target`, speaking what
/// `offer` asks for.
///
/// Immutable (the timings box is the flow's, filled in as a new connection is made).
public struct UpstreamLegRequest {
    public let target: UpstreamTarget
    public let offer: UpstreamProtocolOffer
    /// Where a new connection's setup (DNS, connect, TLS) is stamped; a pooled leg stamps nothing.
    public let timings: FlowTimingsBox
    /// The request the leg is for, when the owner has it (a proxy handler): a source may
    /// answer it without a connection (the gRPC-Web gateway's CORS preflight). A pool
    /// ignores it.
    public let head: LegRequestHead?

    public init(target: UpstreamTarget, offer: UpstreamProtocolOffer, timings: FlowTimingsBox,
                head: LegRequestHead? = nil) {
        self.target = target
        self.offer = offer
        self.timings = timings
        self.head = head
    }

    public var key: UpstreamPoolKey { UpstreamPoolKey(target: target, offer: offer) }
}
