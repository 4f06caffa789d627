import TaplineCapture

/// One replayed flow, its source flow and how they compare. A value type.
public struct ReplayFlowOutcome: Sendable {
    public let source: CapturedFlow
    /// The flow as the replay session recorded it.
    public let replay: CapturedFlow
    public let verdict: ReplayVerdict
    /// How the replay differs from the source (empty when equal), in the diff's order.
    public let differences: [FlowDifference]

    public init(source: CapturedFlow, replay: CapturedFlow, verdict: ReplayVerdict, differences: [FlowDifference]) {
        self.source = source
        self.replay = replay
        self.verdict = verdict
        self.differences = differences
    }
}
