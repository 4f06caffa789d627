import TaplineFlow
import TaplineHTTP2
import TaplineHTTPClient
import TaplineNet
import TaplineWire

/// One client HTTP/2 stream and the flow that records it, with the upstream
/// leg it was mapped to (an `HTTP2StreamLeg` on the shared HTTP/2 upstream, or an
/// `HTTP1ClientLeg` of its own connection), whose delegate it is.
///
/// Credit accounting (invariant): `clientUnconsumed` is the number of request
/// DATA bytes received from the client and not yet given back with `consume`.
/// Bytes are given back when written to the other side; whatever is left when
/// the exchange is dropped is given back then, so no connection window leaks.
/// Response DATA is counted by the leg (`HTTPClientLeg.consumed`).
///
/// Thread ownership: confined to the handler's loop; owned by `HTTP2ProxyHandler`.
///
/// Lifetime (invariant): the exchange never outlives its use by its handler. Only
/// the handler and what the handler owns hold it strongly (its stream map, its
/// HTTP/2 stream leg until that lets go of its stream, which the handler makes it do
/// before it drops the exchange; closures hold it weakly), and everything that calls
/// back into it (its legs, the upstream connection, whose socket's delegate is weak)
/// goes away with the handler. So `handler` is an unmanaged reference: events reach
/// the handler without retaining it (a weak reference would take the runtime's slow
/// reference-counting path on every event: docs/performance.md).
final class HTTP2StreamExchange: HTTP2UpstreamStreamDelegate, HTTP2ResponseDeadlineHolder, HTTP2StreamLegDelegate {
    /// The exchange's upstream side: none yet (connecting, waiting for the upstream's
    /// SETTINGS; or a WebSocket relay over HTTP/1.1 took the connection), a stream of the
    /// shared HTTP/2 upstream, or an HTTP/1.1 connection of its own.
    enum Leg {
        case none
        case http2(HTTP2StreamLeg)
        case http1(any HTTPClientLeg)
    }

    let flow: FlowID
    let clientStream: Int32
    /// The request block as the client sent it.
    let requestFields: HTTPHeaders
    /// The request's `:method` (GET when missing).
    let method: String
    let timings = FlowTimingsBox()
    /// The handler that owns this exchange, unretained (see the lifetime invariant above).
    private let owner: Unmanaged<HTTP2ProxyHandler>
    /// The handler that owns this exchange.
    var handler: HTTP2ProxyHandler { owner.takeUnretainedValue() }

    var leg: Leg = .none

    /// The exchange's HTTP/2 stream leg, taken out of it (`leg` is `.none` after; nil,
    /// and `leg` unchanged, for any other leg): the caller then holds the only reference
    /// the exchange had, so the leg can be recycled (`HTTP2StreamLegRecycler`).
    func takeHTTP2Leg() -> HTTP2StreamLeg? {
        guard case .http2(let streamLeg) = leg else { return nil }
        leg = .none
        return streamLeg
    }
    /// Request body bytes received before the upstream leg was ready.
    var pendingRequestBody: [[UInt8]] = []
    var requestEnded = false
    var requestTrailers: HTTPHeaders?
    var requestBodyBytes: UInt64 = 0
    var clientUnconsumed = 0

    var responseHeadSent = false
    var responseComplete = false
    var responseBodyBytes: UInt64 = 0
    /// Monotonic nanoseconds by which the upstream must start its response (504 after);
    /// nil once it has, or while no upstream stream is open. Armed and swept by the
    /// handler's `HTTP2ConnectionDeadlines`.
    var responseDeadline: UInt64?
    /// `flowEnded` was recorded (the stream may still be open until the client closes it),
    /// or the WebSocket relay took the flow over and records its end.
    var flowEnded = false

    /// RFC 8441 extended CONNECT (`:protocol websocket`): the stream's WebSocket side; nil
    /// for every other request.
    var webSocket: HTTP2WebSocketBridge?

    init(flow: FlowID, clientStream: Int32, requestFields: HTTPHeaders, method: String, handler: HTTP2ProxyHandler) {
        self.flow = flow
        self.clientStream = clientStream
        self.requestFields = requestFields
        self.method = method
        owner = Unmanaged.passUnretained(handler)
    }

    // MARK: HTTP2UpstreamStreamDelegate (its HTTP/2 leg's stream, once it carries the WebSocket tunnel)

    func upstreamStream(_ stream: Int32, received event: HTTP2Event) {
        owner._withUnsafeGuaranteedRef { $0.tunnelStreamEvent(event, for: self) }
    }

    func upstreamStream(_ stream: Int32, lost error: FlowError) {
        handler.upstreamLost(self, error: error)
    }

    // MARK: HTTP2StreamLegDelegate (its leg, either kind)

    // Each request's events, so guaranteed refs (no retain of the handler: the handler is
    // also referenced weakly, so its retains take the slow path).

    func legResponseStarted(_ leg: any HTTPClientLeg) {
        owner._withUnsafeGuaranteedRef { $0.firstResponseByte(self) }
    }

    func leg(_ leg: any HTTPClientLeg, receivedHead head: LegResponseHead) {
        owner._withUnsafeGuaranteedRef { $0.legResponseHead(head, for: self) }
    }

    func leg(_ leg: any HTTPClientLeg, receivedBody bytes: ArraySlice<UInt8>) {
        owner._withUnsafeGuaranteedRef { $0.legResponseBody(Array(bytes), for: self) }
    }

    func leg(_ leg: HTTP2StreamLeg, receivedResponseBlock fields: HTTPHeaders, endsStream: Bool) {
        owner._withUnsafeGuaranteedRef {
            $0.http2ResponseHead(HTTP2HeadTranslator.capturedResponse(fields), fields: fields, endsStream: endsStream,
                                 for: self)
        }
    }

    func leg(_ leg: HTTP2StreamLeg, receivedData bytes: [UInt8]) {
        owner._withUnsafeGuaranteedRef { $0.legResponseBody(bytes, for: self) }
    }

    func leg(_ leg: any HTTPClientLeg, receivedEnd trailers: HTTPHeaders?) {
        owner._withUnsafeGuaranteedRef { $0.legResponseEnd(trailers: trailers, for: self) }
    }

    func leg(_ leg: any HTTPClientLeg, failed error: FlowError) {
        handler.legFailed(self, error: error)
    }

    func legBecameWritable(_ leg: any HTTPClientLeg) {
        handler.http1UpstreamWritable(self)
    }

    func legFinishedInput(_ leg: any HTTPClientLeg) {
        handler.pumpAfterUpstreamInput()
    }

    func leg(_ leg: HTTP2StreamLeg, framedRequestBody count: Int) {
        owner._withUnsafeGuaranteedRef { $0.requestBodyFramed(count, for: self) }
    }

    func leg(_ leg: HTTP2StreamLeg, streamEnded end: HTTP2StreamEnd) {
        owner._withUnsafeGuaranteedRef { $0.upstreamStreamEnded(end, for: self) }
    }
}
