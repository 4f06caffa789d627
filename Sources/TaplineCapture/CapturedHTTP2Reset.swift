import TaplineFlow

/// An RST_STREAM recorded for an HTTP/2 flow: who sent it and the error code.
public struct CapturedHTTP2Reset: Sendable, Equatable {
    /// True when the client reset the stream, false when the upstream did.
    public var fromClient: Bool
    public var errorCode: UInt32
    public var time: Timestamp

    public init(fromClient: Bool, errorCode: UInt32, time: Timestamp) {
        self.fromClient = fromClient
        self.errorCode = errorCode
        self.time = time
    }
}
