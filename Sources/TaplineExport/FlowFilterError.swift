/// A filter expression that does not parse: which term and why.
public struct FlowFilterError: Error, Sendable, Equatable, CustomStringConvertible {
    public var term: String
    public var reason: String

    public init(term: String, reason: String) {
        self.term = term
        self.reason = reason
    }

    public var description: String {
        "bad filter term \(term.debugDescription): \(reason) (see docs/filters.md)"
    }
}
