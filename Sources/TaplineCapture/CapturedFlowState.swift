/// How far a captured flow got.
public enum CapturedFlowState: String, Sendable, Equatable {
    /// `flowEnded` was recorded without an error.
    case complete
    /// No `flowEnded` yet: the proxy was still running (or was killed) at read time.
    case inProgress = "in progress"
    /// `flowEnded` was recorded with an error.
    case aborted
}
