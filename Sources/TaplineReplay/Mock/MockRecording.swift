import TaplineCapture

/// One recorded exchange `tapline mock` can answer with: the captured flow (its
/// response head, body location, trailers, timing) and its request in comparable form.
/// A value type.
public struct MockRecording: Sendable {
    public var flow: CapturedFlow
    /// The id of the session it was read from (for the live line and near-miss report).
    public var session: String
    public var request: MockRequest

    public init(flow: CapturedFlow, session: String, request: MockRequest) {
        self.flow = flow
        self.session = session
        self.request = request
    }

    /// `session#flow`, as the live line and the near-miss report name it.
    public var name: String { "\(session)#\(flow.id.rawValue)" }
}
