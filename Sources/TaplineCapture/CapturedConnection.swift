import TaplineFlow

/// A client connection as recorded: where it came from and its TLS leg, if intercepted.
public struct CapturedConnection: Sendable, Equatable {
    public var id: ConnectionID
    /// `ip:port` of the client.
    public var client: String
    /// The listener address it arrived on.
    public var listener: String
    public var opened: Timestamp
    /// Our TLS handshake with the client (interception), if any.
    public var tls: TLSDetails?
    public var closed: Timestamp?
    public var bytesReceived: UInt64 = 0
    public var bytesSent: UInt64 = 0
    public var error: RecordedError?

    public init(id: ConnectionID, client: String, listener: String, opened: Timestamp) {
        self.id = id
        self.client = client
        self.listener = listener
        self.opened = opened
    }
}
