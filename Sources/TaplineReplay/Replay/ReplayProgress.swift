/// How far a running replay is, for a progress line. A value type.
public struct ReplayProgress: Sendable, Equatable {
    /// Flows to send in all (selected and replayable, times `--repeat`).
    public let total: Int
    /// Flows whose response ended or that failed.
    public var done = 0
    /// Of `done`, those that failed (no complete response).
    public var failed = 0
    /// Of `done`, those skipped when their turn came (`ReplayPlan.item` threw; each counted
    /// in every round it came up in, as `total` counts it).
    public var skipped = 0

    public init(total: Int) {
        self.total = total
    }
}
