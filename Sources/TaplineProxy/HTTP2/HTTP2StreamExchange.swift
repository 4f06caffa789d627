import TaplineFlow
import TaplineHTTP2
import TaplineNet
import TaplineWire

/// One client HTTP/2 stream and the flow that records it, with the upstream
/// leg it was mapped to (a stream of a shared HTTP/2 upstream, or its own
/// HTTP/1.1 connection).
///
/// Credit accounting (invariant): `clientUnconsumed` is the number of request
/// DATA bytes received from the client and not yet given back with `consume`;
/// `upstreamUnconsumed` the same for response bytes from an HTTP/2 upstream.
/// Bytes are given back when written to the other side; whatever is left when
/// the exchange is dropped is given back then, so no connection window leaks.
///
/// Thread ownership: confined to the handler's loop; owned by `HTTP2ProxyHandler`.
final class HTTP2StreamExchange: HTTP2UpstreamStreamDelegate {
    enum Leg {
        case none
        case http2(HTTP2UpstreamConnection, Int32)
        case http1(HTTP1UpstreamLeg)
    }

    let flow: FlowID
    let clientStream: Int32
    /// The request block as the client sent it.
    let requestFields: HTTPHeaders
    /// The request's `:method` (GET when missing).
    let method: String
    let timings = FlowTimingsBox()
    weak var handler: HTTP2ProxyHandler?

    var leg: Leg = .none
    /// Request body bytes received before the upstream leg was ready.
    var pendingRequestBody: [[UInt8]] = []
    var requestEnded = false
    var requestTrailers: HTTPHeaders?
    var requestBodyBytes: UInt64 = 0
    var clientUnconsumed = 0

    var responseHeadSent = false
    var responseComplete = false
    var responseBodyBytes: UInt64 = 0
    var upstreamUnconsumed = 0
    /// Monotonic nanoseconds by which the upstream must start its response (504 after);
    /// nil once it has, or while no upstream stream is open. Swept by the handler's
    /// one response deadline timer.
    var responseDeadline: UInt64?
    /// `flowEnded` was recorded (the stream may still be open until the client closes it),
    /// or a `relay` took the flow over and records its end.
    var flowEnded = false

    /// RFC 8441 extended CONNECT (`:protocol websocket`): the client's stream as a byte stream.
    var tunnel: HTTP2TunnelStream?
    /// The `Sec-WebSocket-Key` sent to an HTTP/1.1 upstream for the tunnel.
    var webSocketKey: String?
    /// The upstream's stream as a byte stream, once an HTTP/2 upstream accepted the extended CONNECT.
    var upstreamTunnel: HTTP2TunnelStream?
    /// Relays the WebSocket once the upstream switched; from then on it owns the flow.
    var relay: WebSocketRelay?

    init(flow: FlowID, clientStream: Int32, requestFields: HTTPHeaders, method: String, handler: HTTP2ProxyHandler) {
        self.flow = flow
        self.clientStream = clientStream
        self.requestFields = requestFields
        self.method = method
        self.handler = handler
    }

    // MARK: HTTP2UpstreamStreamDelegate

    func upstreamStream(_ stream: Int32, received event: HTTP2Event) {
        handler?.upstreamEvent(event, for: self)
    }

    func upstreamStream(_ stream: Int32, lost error: FlowError) {
        handler?.upstreamLost(self, error: error)
    }
}
