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
    /// HTTP/2 connections: the SETTINGS the client and the upstream sent, in order.
    public var http2Settings: [CapturedHTTP2Settings] = []
    /// HTTP/2 connections: GOAWAYs from the client or the upstream.
    public var http2GoAways: [CapturedHTTP2GoAway] = []

    public init(id: ConnectionID, client: String, listener: String, opened: Timestamp) {
        self.id = id
        self.client = client
        self.listener = listener
        self.opened = opened
    }
}
