/// When `tapline replay` sends each flow (`--pace`).
public enum ReplayPace: String, Sendable, Equatable {
    /// As fast as the connections allow: each recorded connection's flows back to
    /// back (concurrent ones at once), up to `ReplayPacing.concurrency` connections.
    case none
    /// At the recorded start offsets from the session's first flow, divided by
    /// `ReplayPacing.speed`.
    case recorded
}
