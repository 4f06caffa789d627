import TaplineHTTP2

/// The handler that owns an `HTTP2UpstreamConnection`: it runs the pump that
/// dispatches the connection's events and flushes its output.
///
/// Thread ownership: called on the connection's loop.
public protocol HTTP2UpstreamConnectionOwner: AnyObject {
    /// Input arrived or the socket became writable: dispatch events and flush now.
    func upstreamConnectionNeedsPump(_ connection: HTTP2UpstreamConnection)
    /// A connection-level event from the upstream: SETTINGS or GOAWAY.
    func upstreamConnection(_ connection: HTTP2UpstreamConnection, received event: HTTP2Event)
    /// The connection closed; its streams were already told (`lost`).
    func upstreamConnectionClosed(_ connection: HTTP2UpstreamConnection)
}
