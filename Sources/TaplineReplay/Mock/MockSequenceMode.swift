/// What `tapline mock` answers once a sequence is used up (`--sequence`): the recorded
/// responses of identical recorded requests are served in recorded order, one per
/// request, and after the last one each mode says what comes next.
public enum MockSequenceMode: String, Sendable, CaseIterable {
    /// The first recorded response again, and on in order.
    case loop
    /// The last recorded response again and again (the default).
    case last
    /// None: the request is unmatched ("all N recorded responses ... were served").
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
