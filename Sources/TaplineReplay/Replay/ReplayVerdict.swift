/// How one replayed flow compares with its recording.
public enum ReplayVerdict: String, Sendable, Equatable {
    /// Nothing the diff rules compare differs.
    case equal
    /// It got a complete answer that differs from the recorded one.
    case different
    /// It got no complete answer (refused, timed out, reset), where the recording had one.
    case failed
}
