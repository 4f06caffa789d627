import TaplineCapture

/// What a replay found: every replayed flow against its source, the flows not
/// replayed and why, and latency per endpoint. A value type; `ReplayEvaluation` makes it.
public struct ReplayResult: Sendable {
    /// In the replay session's flow order.
    public let outcomes: [ReplayFlowOutcome]
    public let skipped: [ReplaySkippedFlow]
    /// Endpoints in order of first appearance.
    public let latency: [EndpointLatency]

    public init(outcomes: [ReplayFlowOutcome], skipped: [ReplaySkippedFlow], latency: [EndpointLatency]) {
        self.outcomes = outcomes
        self.skipped = skipped
        self.latency = latency
    }

    public var sentCount: Int { outcomes.count }
    public var equalCount: Int { outcomes.count { $0.verdict == .equal } }
    public var differentCount: Int { outcomes.count { $0.verdict == .different } }
    public var failedCount: Int { outcomes.count { $0.verdict == .failed } }

    /// Every selected flow was replayed and matched (`tapline replay` exits 0).
    public var allMatched: Bool { skipped.isEmpty && outcomes.allSatisfy { $0.verdict == .equal } }
}
