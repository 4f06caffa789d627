import TaplineCapture

/// What a replay found: every replayed flow against its source, the flows not
/// replayed and why, and latency per endpoint. A value type; `ReplayEvaluation` makes it.
public struct ReplayResult: Sendable {
    /// In the replay session's flow order: every replayed flow, or, when the equal ones
    /// were not kept (`ReplayEvaluation.keepsEqualOutcomes`), those that differ or failed.
    public let outcomes: [ReplayFlowOutcome]
    /// Equal flows counted but not in `outcomes`.
    public let unlistedEqualCount: Int
    public let skipped: [ReplaySkippedFlow]
    /// Endpoints in order of first appearance.
    public let latency: [EndpointLatency]

    public init(outcomes: [ReplayFlowOutcome], unlistedEqualCount: Int = 0, skipped: [ReplaySkippedFlow],
                latency: [EndpointLatency]) {
        self.outcomes = outcomes
        self.unlistedEqualCount = unlistedEqualCount
        self.skipped = skipped
        self.latency = latency
    }

    public var sentCount: Int { outcomes.count + unlistedEqualCount }
    public var equalCount: Int { outcomes.count { $0.verdict == .equal } + unlistedEqualCount }
    public var differentCount: Int { outcomes.count { $0.verdict == .different } }
    public var failedCount: Int { outcomes.count { $0.verdict == .failed } }

    /// Every selected flow was replayed and matched (`tapline replay` exits 0).
    public var allMatched: Bool { skipped.isEmpty && outcomes.allSatisfy { $0.verdict == .equal } }
}
