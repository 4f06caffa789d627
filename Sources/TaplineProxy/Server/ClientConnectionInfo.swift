import TaplineFlow
import TaplineNet

/// Identity of one accepted client connection, handed from handler to handler
/// as the connection changes protocol (HTTP, CONNECT, TLS, tunnel).
struct ClientConnectionInfo {
    let id: ConnectionID
    let address: SocketAddress
    /// `http` or `https`: what the client speaks to us on this connection.
    var scheme: String
}
