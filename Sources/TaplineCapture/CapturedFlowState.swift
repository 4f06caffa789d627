/// How far a captured flow got; the raw value is what `tapline show --json` says (`state`).
public enum CapturedFlowState: String, Sendable, Equatable {
    /// `flowEnded` was recorded without an error.
    case complete
    /// No `flowEnded` yet: the proxy was still running (or was killed) at read time, so its
    /// response may still be arriving (the capture writer runs behind the traffic). `open`:
    /// not to be read as a flow that ended without a response (that one has an error).
    case inProgress = "open"
    /// `flowEnded` was recorded with an error.
    case aborted
}
