/// One flow of a recorded connection as `ReplayScheduler` sees it: where it is in the
/// plan, when it started in the recording, and whether it may go before the previous
/// flow of its connection is done. A value type.
public struct ReplayScheduledFlow: Sendable, Equatable {
    /// Index of the flow in `ReplayPlan.items`.
    public let item: Int
    /// Microseconds from the session's first replayed flow's start to this flow's start.
    public let offsetMicroseconds: Int64
    /// The flow started before the previous flow of its connection ended (HTTP/2
    /// streams in flight together): it is sent without waiting for that one.
    public let overlapsPrevious: Bool

    public init(item: Int, offsetMicroseconds: Int64, overlapsPrevious: Bool) {
        self.item = item
        self.offsetMicroseconds = offsetMicroseconds
        self.overlapsPrevious = overlapsPrevious
    }
}
