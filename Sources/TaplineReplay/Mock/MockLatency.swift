/// How long `tapline mock` waits before a response starts (`--latency`); the wait is a
/// timer on the connection's loop, never a blocked thread.
public enum MockLatency: Sendable, Equatable {
    /// At once (the default).
    case none
    /// As long as the recorded upstream took: request head to response head.
    case recorded
    /// This many milliseconds for every response.
    case fixed(milliseconds: Int)

    /// Parses `recorded`, `none` or a number of milliseconds; nil for anything else.
    public init?(_ text: String) {
        switch text {
        case "none": self = .none
        case "recorded": self = .recorded
        default:
            guard let milliseconds = Int(text), milliseconds >= 0, milliseconds <= 600_000 else { return nil }
            self = .fixed(milliseconds: milliseconds)
        }
    }

    /// The wait before a response whose recording took `recordedMilliseconds` (nil: unknown, or a generated answer).
    public func milliseconds(recorded recordedMilliseconds: Double?) -> Int {
        switch self {
        case .none: return 0
        case .fixed(let milliseconds): return milliseconds
        case .recorded: return max(0, Int((recordedMilliseconds ?? 0).rounded()))
        }
    }
}
