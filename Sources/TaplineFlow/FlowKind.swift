/// What kind of exchange a flow is.
public enum FlowKind: String, Sendable, Equatable, CaseIterable {
    /// An HTTP request/response (HTTP/1.x; HTTP/2 later).
    case http
    /// A CONNECT tunnel or passthrough relayed byte for byte, not interpreted.
    case tunnel
    /// A client TLS handshake that failed (pinning, untrusted CA), no request followed.
    case tlsFailed = "tls-failed"
    /// A WebSocket session (handshake plus messages).
    case websocket
}
