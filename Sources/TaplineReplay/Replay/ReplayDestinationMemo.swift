import TaplineCapture
import TaplineHTTPClient

/// `ReplayRequestRewriter.destination` for a run of flows under one set of rules, the
/// last one worked out reused: a flow with the same recorded scheme, authority and HTTP
/// version (HTTP/2 or not) as the previous one goes to the same upstream with the same
/// offer, so its authority is not split and its target not made again (a session's
/// flows mostly share one origin).
///
/// Invariant: `destination(for:)` gives what `ReplayRequestRewriter.destination(for:
/// rules:)` gives for the same flow and `rules` (its target and offer depend on nothing
/// else of the flow; the rest of `ReplayDestination` is made for each flow).
///
/// Thread ownership: one thread at a time (a plan's planning loop, or one reader of a
/// streamed plan's flows: `ReplayPlan.withOwnReader` makes another).
final class ReplayDestinationMemo {
    private let rules: ReplayTargetRules
    private var lastScheme = ""
    private var lastAuthority = ""
    private var lastIsHTTP2 = false
    /// The target worked out for the last key (nil before the first flow), and its offer
    /// (`.http1` until then). Two properties rather than an optional tuple, which is copied
    /// through the runtime's generic value witnesses (on every hit).
    private var lastTarget: UpstreamTarget?
    private var lastOffer = UpstreamProtocolOffer.http1

    init(rules: ReplayTargetRules) {
        self.rules = rules
    }

    /// Where `flow` goes (`ReplayRequestRewriter.destination(for:rules:)`).
    ///
    /// - Throws: as `ReplayRequestRewriter.destination` (a refused flow is not remembered).
    func destination(for flow: CapturedFlow) throws(ReplaySkipReason) -> ReplayDestination {
        // The version read in place: binding the request head would copy it (retain its fields).
        guard let major = flow.request?.version.major else { return try ReplayRequestRewriter.destination(for: flow, rules: rules) }
        let isHTTP2 = major >= 2
        if let lastTarget, isHTTP2 == lastIsHTTP2, flow.authority == lastAuthority, flow.scheme == lastScheme {
            return ReplayDestination(flow: flow, target: lastTarget, offer: lastOffer)
        }
        let destination = try ReplayRequestRewriter.destination(for: flow, rules: rules)
        lastScheme = flow.scheme
        lastAuthority = flow.authority
        lastIsHTTP2 = isHTTP2
        lastTarget = destination.target
        lastOffer = destination.offer
        return destination
    }
}
