import TaplineFlow

/// A GOAWAY recorded on a connection: sent by the client or by the upstream.
public struct CapturedHTTP2GoAway: Sendable, Equatable {
    public var fromClient: Bool
    public var lastStreamID: UInt32
    public var errorCode: UInt32
    /// The debug data, as text (empty when none was sent).
    public var debugData: String
    public var time: Timestamp

    public init(fromClient: Bool, lastStreamID: UInt32, errorCode: UInt32, debugData: String, time: Timestamp) {
        self.fromClient = fromClient
        self.lastStreamID = lastStreamID
        self.errorCode = errorCode
        self.debugData = debugData
        self.time = time
    }
}
