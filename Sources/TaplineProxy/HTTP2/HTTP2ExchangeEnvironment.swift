import TaplineFlow

/// What every exchange of one HTTP/2 client connection knows about the connection, for
/// what it records and the messages of its errors. Made once per connection by its
/// `HTTP2ProxyHandler` and shared by its `HTTP2ExchangeStateMachine`s (a stream costs
/// one reference, not a copy of each string).
///
/// Thread ownership: immutable; used on the handler's loop.
final class HTTP2ExchangeEnvironment: Sendable {
    let connection: ConnectionID
    /// The client connection's scheme, for a request without `:scheme`.
    let clientScheme: String
    /// The route's authority, for a request without `:authority`.
    let targetAuthority: String
    /// The upstream as error messages name it (`host:port`).
    let upstreamHostPort: String
    /// The response timeout (ms), for the message of a 504.
    let responseTimeout: Int

    init(connection: ConnectionID, clientScheme: String, targetAuthority: String, upstreamHostPort: String,
         responseTimeout: Int) {
        self.connection = connection
        self.clientScheme = clientScheme
        self.targetAuthority = targetAuthority
        self.upstreamHostPort = upstreamHostPort
        self.responseTimeout = responseTimeout
    }
}
