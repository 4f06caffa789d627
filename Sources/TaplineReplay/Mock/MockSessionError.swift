import TaplineCapture

/// A session `tapline mock` cannot serve from: it cannot be opened or read (named by
/// its directory), or a flow's request body cannot be read (named by flow). A value type.
public struct MockSessionError: Error, Sendable, CustomStringConvertible {
    public var session: String
    public var reason: String

    public init(session: String, reason: String) {
        self.session = session
        self.reason = reason
    }

    public var description: String { "session \(session): \(reason)" }
}
