/// Which end of an HTTP/2 connection an `HTTP2Session` plays.
public enum HTTP2SessionRole: Sendable, Equatable {
    /// Accepts requests (the proxy's client-facing leg).
    case server
    /// Sends requests (the proxy's upstream leg).
    case client
}
