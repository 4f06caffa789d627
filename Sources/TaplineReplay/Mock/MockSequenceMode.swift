/// What `tapline mock` answers when the same request comes again (`--sequence`):
/// the recorded responses of identical recorded requests are served in recorded order,
/// then
public enum MockSequenceMode: String, Sendable, CaseIterable {
    /// from the first again.
    case loop
    /// the last one again and again (the default).
    case last
    /// not at all: the request is unmatched ("all N recorded responses were served").
    case strict

    /// Which of `count` recorded responses the `served`-th request (0-based) gets; nil
    /// when `strict` has none left. `count` > 0.
    public func responseIndex(served: Int, count: Int) -> Int? {
        switch self {
        case .loop: return served % count
        case .last: return min(served, count - 1)
        case .strict: return served < count ? served : nil
        }
    }
}
