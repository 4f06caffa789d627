import TaplineFlow

/// A SETTINGS frame one side of an HTTP/2 connection sent, as recorded.
public struct CapturedHTTP2Settings: Sendable, Equatable {
    /// True for the client's SETTINGS, false for the upstream's.
    public var fromClient: Bool
    /// Parameters in the order sent.
    public var settings: [HTTP2Setting]
    public var time: Timestamp

    public init(fromClient: Bool, settings: [HTTP2Setting], time: Timestamp) {
        self.fromClient = fromClient
        self.settings = settings
        self.time = time
    }
}
