/// One reason a recorded request does not match a live one, for the near-miss report:
/// which part differs (`method`, `upgrade`, `path`, `query`, `body`, or `header NAME`), what was
/// recorded and what was received. A value type.
public struct MockMismatch: Sendable, Equatable {
    public var field: String
    public var recorded: String
    public var received: String

    public init(field: String, recorded: String, received: String) {
        self.field = field
        self.recorded = recorded
        self.received = received
    }

    /// How much this difference weighs when ranking near misses: another path or method
    /// is further away than another query or body.
    var weight: Int {
        switch field {
        case "path": return 4
        case "method", "upgrade": return 3
        default: return 1
        }
    }
}
