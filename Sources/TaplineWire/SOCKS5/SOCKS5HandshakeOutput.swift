/// What `SOCKS5ServerHandshake` asks of its owner, in order.
public enum SOCKS5HandshakeOutput: Sendable, Equatable {
    /// Write these bytes to the client.
    case send([UInt8])
    /// The handshake is done: the client asked to CONNECT to `address`:`port`.
    /// Answer with `SOCKS5ServerHandshake.reply(.succeeded)` (or a failure code)
    /// and take the bytes the client already sent after the request from
    /// `takeUnparsedBytes()`.
    case connect(SOCKS5Address, port: Int)
    /// The handshake failed; any reply the protocol allows was sent just before
    /// (as a `.send`). Close the connection after writing it.
    case failed(SOCKS5HandshakeError)
}
