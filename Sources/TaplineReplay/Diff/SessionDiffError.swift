import TaplineCapture
import TaplineFlow

/// Why `SessionDiff` could not compare two sessions: a stored body or message
/// payload of a named flow could not be read (the session is damaged). A value type.
public struct SessionDiffError: Error, Sendable, CustomStringConvertible {
    /// The session directory the flow belongs to.
    public var session: String
    public var flow: FlowID
    /// What was being read: `request body`, `response body`, `WebSocket message 3`.
    public var part: String
    public var cause: CaptureError

    public init(session: String, flow: FlowID, part: String, cause: CaptureError) {
        self.session = session
        self.flow = flow
        self.part = part
        self.cause = cause
    }

    public var description: String {
        "session \(session), flow \(flow): cannot read its \(part): \(cause)"
    }
}
