import TaplineFlow
import TaplineNet

/// An established connection to an origin server, plain or TLS.
///
/// Thread ownership: confined to the loop of `stream`.
public final class UpstreamConnection {
    public let target: UpstreamTarget
    public let stream: any ByteStream
    /// Negotiated TLS parameters and the server's certificate (nil for plain TCP).
    public let tls: TLSDetails?

    public init(target: UpstreamTarget, stream: any ByteStream, tls: TLSDetails?) {
        self.target = target
        self.stream = stream
        self.tls = tls
    }

    /// `ip:port` actually connected to. Formatted once: every request on a kept-alive
    /// or shared HTTP/2 connection records it (~700 instructions each time otherwise).
    public private(set) lazy var serverAddress: String = stream.transport.remoteAddress.description
}
