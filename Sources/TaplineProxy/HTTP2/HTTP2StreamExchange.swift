import TaplineFlow
import TaplineHTTP2
import TaplineHTTPClient
import TaplineNet
import TaplineWire

/// The shell's side of one client HTTP/2 stream: its `HTTP2ExchangeStateMachine`
/// (every decision about the exchange; see below for why it is the superclass), the upstream leg the machine's `openLeg` got
/// (an `HTTP2StreamLeg` on the shared HTTP/2 upstream, or an `HTTP1ClientLeg` of its own
/// connection), whose delegate it is, the WebSocket bridge of an extended CONNECT, and
/// the response deadline the handler's `HTTP2ConnectionDeadlines` sweeps. Its leg's and
/// its client stream's events go to the machine, with the handler's event time; the
/// machine's actions come back to it (`HTTP2ExchangeActionSink`) and are carried out by
/// the handler (`HTTP2ProxyHandler.carryOut`).
///
/// One object per stream: the exchange *is* its machine, extended with the plumbing
/// above, rather than holding one. The machine stays the pure, separately tested type
/// (no I/O, no reference to any of this); inheriting it saves the hot path a second
/// allocation and reference count per stream (docs/performance.md). Nothing overrides
/// the machine's methods. The shell still calls them through `machine`, so a call reads
/// as an event fed to the machine, and the machine's actions come back to `self` as sink.
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
final class HTTP2StreamExchange: HTTP2ExchangeStateMachine, HTTP2UpstreamStreamDelegate, HTTP2ResponseDeadlineHolder, HTTP2StreamLegDelegate,
                                 HTTP2ExchangeActionSink {
    /// The exchange's upstream side: none yet (connecting, waiting for the upstream's
    /// SETTINGS; or a WebSocket relay over HTTP/1.1 took the connection, or the leg was
    /// given up), a stream of the shared HTTP/2 upstream, or an HTTP/1.1 connection of its own.
    enum Leg {
        case none
        case http2(HTTP2StreamLeg)
        case http1(any HTTPClientLeg)
    }

    /// The exchange's decisions: itself, as its machine (see above).
    @inline(__always) var machine: HTTP2ExchangeStateMachine { self }
    /// The handler that owns this exchange, unretained (see the lifetime invariant above).
    private let owner: Unmanaged<HTTP2ProxyHandler>
    /// The handler that owns this exchange.
    var handler: HTTP2ProxyHandler { owner.takeUnretainedValue() }

    var leg: Leg = .none
    /// The attempt of the machine's last `openLeg`: the leg acquisition answers it.
    var legAttempt: UInt32 = 0

    /// The exchange's HTTP/2 stream leg, taken out of it (`leg` is `.none` after; nil,
    /// and `leg` unchanged, for any other leg): the caller then holds the only reference
    /// the exchange had, so the leg can be recycled (`HTTP2StreamLegRecycler`).
    func takeHTTP2Leg() -> HTTP2StreamLeg? {
        guard case .http2(let streamLeg) = leg else { return nil }
        leg = .none
        return streamLeg
    }

    /// Monotonic nanoseconds by which the upstream must start its response (504 after);
    /// nil once it has, or while no upstream stream is open. Armed and swept by the
    /// handler's `HTTP2ConnectionDeadlines` when the machine says so.
    var responseDeadline: UInt64?

    /// RFC 8441 extended CONNECT (`:protocol websocket`): the stream's WebSocket side; nil
    /// for every other request.
    var webSocket: HTTP2WebSocketBridge?

    init(flow: FlowID, clientStream: Int32, requestFields: HTTPHeaders, environment: HTTP2ExchangeEnvironment,
         captureBackedUp: Bool, handler: HTTP2ProxyHandler) {
        owner = Unmanaged.passUnretained(handler)
        super.init(flow: flow, clientStream: clientStream, requestFields: requestFields, environment: environment,
                   captureBackedUp: captureBackedUp)
    }

    // MARK: HTTP2ExchangeActionSink

    @inline(__always)
    func perform(_ action: HTTP2ExchangeAction) {
        owner._withUnsafeGuaranteedRef { $0.carryOut(action, for: self) }
    }

    func record(_ event: @autoclosure () -> FlowEvent) {
        owner._withUnsafeGuaranteedRef { $0.record(event()) }
    }

    func recordBody(_ flow: FlowID, isRequest: Bool, _ bytes: ArraySlice<UInt8>) {
        owner._withUnsafeGuaranteedRef { $0.recordBody(flow, isRequest: isRequest, bytes) }
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
        owner._withUnsafeGuaranteedRef { machine.responseStarted(now: $0.eventTime, self) }
    }

    func leg(_ leg: any HTTPClientLeg, receivedHead head: LegResponseHead) {
        owner._withUnsafeGuaranteedRef { machine.responseHead(head, webSocketKey: webSocket?.upgradeKey, now: $0.eventTime, self) }
    }

    func leg(_ leg: any HTTPClientLeg, receivedBody bytes: ArraySlice<UInt8>) {
        owner._withUnsafeGuaranteedRef { handler in
            machine.responseBody(Array(bytes), queuedToClient: handler.queuedToClient(self), self)
        }
    }

    func leg(_ leg: HTTP2StreamLeg, receivedResponseBlock fields: HTTPHeaders, endsStream: Bool) {
        owner._withUnsafeGuaranteedRef { machine.responseBlock(fields, endsStream: endsStream, now: $0.eventTime, self) }
    }

    func leg(_ leg: HTTP2StreamLeg, receivedData bytes: [UInt8]) {
        owner._withUnsafeGuaranteedRef { handler in
            machine.responseBody(bytes, queuedToClient: handler.queuedToClient(self), self)
        }
    }

    func leg(_ leg: any HTTPClientLeg, receivedEnd trailers: HTTPHeaders?) {
        owner._withUnsafeGuaranteedRef { machine.responseEnd(trailers: trailers, now: $0.eventTime, self) }
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
        machine.requestBodyFramed(count, self)
    }

    func leg(_ leg: HTTP2StreamLeg, streamEnded end: HTTP2StreamEnd) {
        owner._withUnsafeGuaranteedRef { machine.upstreamStreamEnded(end, now: $0.eventTime, self) }
    }
}
