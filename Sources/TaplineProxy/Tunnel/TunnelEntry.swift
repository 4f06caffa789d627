import TaplineWire

/// How a client connection became a tunnel to a known `host:port`, which
/// `ConnectTunnelHandler` then takes over: it decides what is recorded as the
/// tunnel's request and whether HTTP inside keeps the Host the client sent.
enum TunnelEntry {
    /// An HTTP `CONNECT host:port` answered with 200; the request is recorded as the tunnel's.
    case connect(HTTPRequestHead)
    /// A SOCKS5 CONNECT answered "succeeded" (`SOCKS5HandshakeHandler`).
    case socks5
    /// A connection the kernel redirected to the `--transparent` listener; the
    /// destination is its original one (`SO_ORIGINAL_DST`). The client addressed the
    /// origin itself, so HTTP requests inside keep their Host header.
    case transparent

    /// The CONNECT request to record as the tunnel's request; nil when there was none.
    var connectRequest: HTTPRequestHead? {
        if case .connect(let head) = self { return head }
        return nil
    }
}
