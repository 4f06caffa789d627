/// Why a flow or connection ended abnormally. The `message` of the event
/// carrying it says what happened in words a user can act on.
public enum FlowErrorKind: String, Sendable, Equatable {
    /// The client sent something that is not valid HTTP (answered with 400).
    case badRequest = "bad-request"
    /// The upstream sent something that is not valid HTTP (answered with 502).
    case badResponse = "bad-response"
    /// Name resolution or TCP connect to the upstream failed (502).
    case upstreamUnreachable = "upstream-unreachable"
    /// The upstream TLS handshake or certificate verification failed (502).
    case upstreamTLS = "upstream-tls"
    /// The upstream did not answer in time (504).
    case upstreamTimeout = "upstream-timeout"
    /// The client TLS handshake failed (e.g. certificate pinning).
    case clientTLS = "client-tls"
    /// The client closed or reset the connection before the exchange finished.
    case clientAborted = "client-aborted"
    /// The upstream closed or reset the connection before the response finished.
    case upstreamAborted = "upstream-aborted"
    /// The client was idle too long, or too slow sending its head.
    case clientTimeout = "client-timeout"
    /// The proxy was shut down while the flow was in flight.
    case shutdown
}
