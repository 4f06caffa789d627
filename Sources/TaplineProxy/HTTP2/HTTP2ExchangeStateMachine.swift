import TaplineFlow
import TaplineHTTP2
import TaplineHTTPClient
import TaplineWire

/// Every decision `HTTP2ProxyHandler` makes about one client stream's exchange, without
/// I/O: no socket, no session, no clock, no recorder. The handler (the shell) hears the
/// client's stream and the exchange's upstream leg, feeds each event to one method here,
/// and carries out the actions handed, in order, to the `HTTP2ExchangeActionSink` passed
/// with the event (the stream's `HTTP2StreamExchange`). The HTTP/2 counterpart of
/// `HTTP1ExchangeStateMachine`, with the same rules.
///
/// `State` says where the exchange is, with only the data that stage has: a request
/// waiting for its leg sent nothing upstream; a response's progress exists only once
/// its head went to the client. Every stage's data is plain values (no reference, no
/// array), so reading and writing `state` on each event copies a few words and retains
/// nothing: the two things a stage would otherwise hold by reference, the body that
/// arrived before the leg and the request's trailers, are fields beside it
/// (`pendingRequestBody`, `requestTrailers`), with their invariants stated there.
/// Decided here: what is recorded and when; which error and status the client gets
/// (502, 504, 431, Tapline's refusal of a CONNECT), or a reset and its code; the stale
/// keep-alive retry on an HTTP/1.1 leg (`StaleConnectionRetryRule`); 1xx toward the
/// client; how an HTTP/2 upstream stream's reset or close maps to the client's stream
/// (REFUSED_STREAM passes through, never retried; NO_ERROR after a complete response
/// while the client uploads ends the flow cleanly and stops the client); what the
/// response deadline, the calm-down cut, the client connection's close and shutdown
/// mean for the exchange; which reasons pause an HTTP/1.1 leg; when the client gets
/// request window back; when the stream is handed to its WebSocket relay.
///
/// Credit accounting (invariant): `clientUnconsumed` is the number of request DATA bytes
/// received from the client and not yet given back (`creditClient`). Bytes are given back
/// when the upstream took them: framed by an HTTP/2 leg's session (`requestBodyFramed`),
/// written to an HTTP/1.1 leg's socket below its watermark (`legWritable`); whatever is
/// left when the client's stream closes is given back then, so no connection window leaks.
/// Bytes arriving after the flow is over are given back at once and not counted.
///
/// Actions go to the sink as they are decided (no allocation per event). The events are
/// generic over the sink (`some HTTP2ExchangeActionSink`): the shell's calls are
/// specialized for `HTTP2StreamExchange`, whose inlined `carryOut` leaves no action value
/// built on the hot path, while tests pass a recording sink. Carrying one
/// out may feed the machine another event first (see `HTTP2ExchangeActionSink`): every
/// method settles `state` before its first action and re-checks it after an action that
/// may re-enter. Times come in with the events (`now`). Legs are named by the `attempt`
/// of the `openLeg` that asked for them, so a leg that arrives after its exchange is
/// over, or for an attempt given up, is discarded.
///
/// Thread ownership: on its handler's loop. A class so that an event fed while another's
/// actions are carried out is a plain nested call; not final only so that the shell's
/// `HTTP2StreamExchange` can be one with it (one object per stream: see there). Nothing
/// overrides its methods (the module is compiled whole, so calls stay direct).
class HTTP2ExchangeStateMachine {
    enum State {
        /// The request head arrived; the leg of `attempt` is being acquired (attempt 0:
        /// none asked for yet). Nothing went upstream on this attempt.
        case awaitingLeg(AwaitingLeg)
        /// The request head went over a leg; no final response head went to the client
        /// yet, so a failure can still be answered with a status.
        case forwarding(Forwarding)
        /// The final response head went to the client: a failure now resets its stream.
        case responding(Responding)
        /// The response is complete toward the client; the flow ends when the client's
        /// stream closes (its request may still be arriving: an early answer).
        case responseComplete(ResponseComplete)
        /// The upstream accepted the WebSocket: the bridge's relay owns the flow and both
        /// sides; the machine only passes the client's reset on and lets go of the leg.
        case webSocketRelaying
        /// `flowEnded` was recorded; the exchange waits for its client stream to close.
        case over(Over)
    }

    struct AwaitingLeg {
        let attempt: UInt32
        var request: RequestProgress
        /// This attempt is the second sending, after a stale keep-alive connection.
        let retried: Bool
    }

    struct Forwarding {
        let leg: LegUse
        var request: RequestProgress
        /// A byte of the response arrived (interim heads included): the deadline is off.
        var responseStarted: Bool
    }

    struct Responding {
        let leg: LegUse
        var request: RequestProgress
        var responseBodyBytes: UInt64
    }

    struct ResponseComplete {
        let leg: LegUse
        var request: RequestProgress
        let responseBodyBytes: UInt64
    }

    struct Over {
        /// How far the request came (its end is still recorded if it arrives).
        var request: RequestProgress
    }

    /// Which protocol the exchange's leg speaks.
    enum LegKind { case http1, http2 }

    /// The leg an exchange's request went over.
    struct LegUse {
        let attempt: UInt32
        let kind: LegKind
        /// The connection carried an earlier request (what `StaleConnectionRetryRule` asks).
        let reused: Bool
        /// This is the second sending of the request, after a stale keep-alive connection.
        let retried: Bool
    }

    struct RequestProgress {
        var bodyBytes: UInt64 = 0
        var ended = false
    }

    let flow: FlowID
    let clientStream: Int32
    /// The request block as the client sent it.
    let requestFields: HTTPHeaders
    /// Shared with the connector (connect timings) and the WebSocket relay.
    let timings = FlowTimingsBox()
    private(set) var state = State.awaitingLeg(AwaitingLeg(attempt: 0, request: RequestProgress(), retried: false))
    /// The request's `:method` (GET when missing), known once `requestHead` ran.
    private(set) var method = "GET"
    /// The request is an RFC 8441 extended CONNECT that the bridge serves.
    private(set) var isWebSocket = false
    /// Request body chunks received before the leg was there, sent in order after its
    /// head. Invariant: empty unless `state` is `awaitingLeg` (emptied when the leg is
    /// adopted, dropped with the flow).
    private var pendingRequestBody: [[UInt8]] = []
    /// The request's trailers, once they came (they end the request).
    private(set) var requestTrailers: HTTPHeaders?
    /// See the credit invariant above.
    private(set) var clientUnconsumed = 0
    /// Reasons the HTTP/1.1 leg is paused for now; a new leg is paused for the capture's.
    private(set) var legPauses: LegPauseReason = []
    /// The capture's queue is backed up: HTTP/1.1 legs are paused until it drains.
    private(set) var captureBackedUp: Bool
    private var attempts: UInt32 = 0
    private let environment: HTTP2ExchangeEnvironment

    init(flow: FlowID, clientStream: Int32, requestFields: HTTPHeaders, environment: HTTP2ExchangeEnvironment,
         captureBackedUp: Bool = false) {
        self.flow = flow
        self.clientStream = clientStream
        self.requestFields = requestFields
        self.environment = environment
        self.captureBackedUp = captureBackedUp
    }

    // MARK: Queries

    /// The attempt whose leg is awaited; nil when no leg would be taken now.
    var awaitedLegAttempt: UInt32? {
        if case .awaitingLeg(let stage) = state, stage.attempt > 0 { return stage.attempt }
        return nil
    }

    /// `flowEnded` was recorded, or the WebSocket relay took the flow over.
    var flowIsOver: Bool {
        switch state {
        case .over, .webSocketRelaying: return true
        case .awaitingLeg, .forwarding, .responding, .responseComplete: return false
        }
    }

    var isWebSocketRelaying: Bool { if case .webSocketRelaying = state { true } else { false } }

    /// The request as far as it came (empty once the WebSocket relay has the stream).
    private var request: RequestProgress {
        switch state {
        case .awaitingLeg(let stage): return stage.request
        case .forwarding(let stage): return stage.request
        case .responding(let stage): return stage.request
        case .responseComplete(let stage): return stage.request
        case .over(let stage): return stage.request
        case .webSocketRelaying: return RequestProgress(ended: true)
        }
    }

    // MARK: Client events

    /// The request head (`endStream`: it is the whole request): the flow starts, and a
    /// leg is asked for unless the request is refused (a CONNECT that is no RFC 8441
    /// WebSocket) or the tunnel's upstream could not be reached (`upstreamFailure`).
    func requestHead(endStream: Bool, upstreamFailure: UpstreamFailure?, now: Timestamp,
                     _ sink: some HTTP2ExchangeActionSink) {
        guard awaitedLegAttempt == nil, attempts == 0, !flowIsOver else { return }
        recordStart(endStream: endStream, now: now, sink)
        if method == "CONNECT" {
            if let refusal = HTTP2WebSocketBridge.refusal(of: requestFields, endStream: endStream) {
                return fail(refusal.error, status: refusal.status, now: now, sink)
            }
            // The head is the whole request; the stream's DATA is the WebSocket, relayed once the upstream switched.
            isWebSocket = true
            sink.perform(.prepareWebSocketBridge)
            requestEnd(now: now, sink)
        }
        if let failure = upstreamFailure {
            return fail(failure.error, status: failure.status, now: now, sink)
        }
        openLeg(retry: false, request: request, sink)
    }

    /// A request head over the session's header list limit: the flow is recorded and
    /// answered 431 (`error` says by how much).
    func requestHeadOversized(_ error: FlowError, endStream: Bool, now: Timestamp, _ sink: some HTTP2ExchangeActionSink) {
        guard attempts == 0, !flowIsOver else { return }
        recordStart(endStream: endStream, now: now, sink)
        fail(error, status: 431, now: now, sink)
    }

    private func recordStart(endStream: Bool, now: Timestamp, _ sink: some HTTP2ExchangeActionSink) {
        let pseudo = HTTP2HeadTranslator.requestPseudoHeaders(requestFields)
        method = pseudo.method ?? "GET"
        timings.value.requestStart = now
        let environment = environment
        sink.record(.flowStarted(flow: flow, connection: environment.connection, kind: .http,
                                 scheme: pseudo.scheme ?? environment.clientScheme,
                                 authority: pseudo.authority ?? environment.targetAuthority, time: now))
        sink.record(.http2Stream(flow: flow, streamID: UInt32(clientStream), time: now))
        sink.record(.requestHead(flow: flow, head: HTTP2HeadTranslator.capturedRequest(requestFields, pseudo), time: now))
        if endStream { requestEnd(now: now, sink) }
    }

    /// A chunk of the request body (never a WebSocket's: the bridge takes those).
    func requestBody(_ bytes: [UInt8], _ sink: some HTTP2ExchangeActionSink) {
        let count = bytes.count
        switch state {
        case .awaitingLeg(var stage):
            stage.request.bodyBytes += UInt64(count)
            state = .awaitingLeg(stage)
            pendingRequestBody.append(bytes)
            clientUnconsumed += count
            sink.recordBody(flow, isRequest: true, bytes[...])
        case .forwarding(var stage):
            stage.request.bodyBytes += UInt64(count)
            state = .forwarding(stage)
            clientUnconsumed += count
            sink.recordBody(flow, isRequest: true, bytes[...])
            sink.perform(.sendBody(bytes)) // credited when the leg took it
        case .responding(var stage):
            stage.request.bodyBytes += UInt64(count)
            state = .responding(stage)
            clientUnconsumed += count
            sink.recordBody(flow, isRequest: true, bytes[...])
            sink.perform(.sendBody(bytes))
        case .responseComplete(var stage):
            stage.request.bodyBytes += UInt64(count)
            state = .responseComplete(stage)
            clientUnconsumed += count
            sink.recordBody(flow, isRequest: true, bytes[...])
            switch stage.leg.kind {
            case .http2: sink.perform(.sendBody(bytes)) // the upstream stream may still take the rest
            case .http1: creditClient(count, sink) // its connection was released: the bytes go nowhere
            }
        case .over, .webSocketRelaying:
            sink.perform(.creditClient(count))
        }
    }

    /// The request's trailers (they end it).
    func requestTrailers(_ fields: HTTPHeaders, now: Timestamp, _ sink: some HTTP2ExchangeActionSink) {
        requestTrailers = fields
        requestEnd(now: now, sink)
    }

    /// The client ended its stream (or its trailers did): recorded once; sent on over the leg.
    func requestEnd(now: Timestamp, _ sink: some HTTP2ExchangeActionSink) {
        var request = self.request
        guard !request.ended else { return }
        request.ended = true
        updateRequest { $0.ended = true }
        timings.value.requestSent = now
        sink.record(.requestEnd(flow: flow, trailers: requestTrailers, bodyBytes: request.bodyBytes, time: now))
        switch state {
        case .forwarding, .responding:
            sink.perform(.sendEnd(trailers: requestTrailers))
        case .responseComplete(let stage) where stage.leg.kind == .http2:
            sink.perform(.sendEnd(trailers: requestTrailers))
        case .awaitingLeg, .responseComplete, .webSocketRelaying, .over:
            break
        }
    }

    /// Trailers over the session's header list limit (not a WebSocket's).
    func requestTrailersOversized(_ error: FlowError, now: Timestamp, _ sink: some HTTP2ExchangeActionSink) {
        fail(error, status: 431, now: now, sink)
    }

    /// The client reset its stream (recorded whatever the stage).
    func clientReset(_ code: HTTP2ErrorCode, now: Timestamp, _ sink: some HTTP2ExchangeActionSink) {
        sink.record(.http2StreamReset(flow: flow, fromClient: true, errorCode: code.rawValue, time: now))
        if case .webSocketRelaying = state { return sink.perform(.passClientResetToWebSocketRelay(code)) }
        endFlow(FlowError(.clientAborted, "the client reset the stream with \(code)"), now: now, sink)
        sink.perform(.cancelLeg(code == .noError ? .cancel : code))
    }

    /// The client's stream closed (`code` NO_ERROR when both ends ended): the flow ends
    /// cleanly if both the request and the response were complete, else client-aborted,
    /// and the client gets back the credit of bytes never delivered. The last event.
    func clientStreamClosed(_ code: HTTP2ErrorCode, now: Timestamp, _ sink: some HTTP2ExchangeActionSink) {
        if case .responseComplete(let stage) = state, stage.request.ended {
            endFlow(nil, now: now, sink)
        } else {
            endFlow(FlowError(.clientAborted, code == .noError
                ? "the stream closed before the exchange was complete"
                : "the stream was reset with \(code) before the exchange was complete"), now: now, sink)
        }
        sink.perform(.cancelLeg(.cancel))
        let left = clientUnconsumed
        clientUnconsumed = 0
        if left > 0 { sink.perform(.creditClient(left)) }
    }

    /// The session framed `count` bytes of the response toward the client.
    func responseDelivered(_ count: Int, queuedToClient: @autoclosure () -> Int, _ sink: some HTTP2ExchangeActionSink) {
        let leg: LegUse
        switch state {
        case .forwarding(let stage): leg = stage.leg
        case .responding(let stage): leg = stage.leg
        case .responseComplete(let stage): leg = stage.leg
        case .over: return sink.perform(.legConsumed(count)) // a stream leg a NO_ERROR reset left
        case .awaitingLeg, .webSocketRelaying: return
        }
        switch leg.kind {
        case .http2:
            sink.perform(.legConsumed(count))
        case .http1:
            // An HTTP/1.1 leg has no window: it was paused while the stream's queue was full.
            guard legPauses.contains(.clientSlow), queuedToClient() < HTTPClientBufferLimits.http2StreamSendQueue else { return }
            resumeLeg(.clientSlow, sink)
        }
    }

    // MARK: Leg events

    /// The leg asked for by `openLeg(attempt:)` is there and carries the request from now
    /// on: `head` is the request translated for it. `server`/`tls`/`reused` are what
    /// `upstreamConnected` records.
    func legOpened(attempt: UInt32, kind: LegKind, reused: Bool, server: @autoclosure () -> String, tls: TLSDetails?,
                   head: @autoclosure () -> LegRequestHead, now: Timestamp, _ sink: some HTTP2ExchangeActionSink) {
        guard case .awaitingLeg(let stage) = state, stage.attempt == attempt, attempt > 0 else {
            return sink.perform(.discardOpenedLeg)
        }
        let request = stage.request
        state = .forwarding(Forwarding(leg: LegUse(attempt: attempt, kind: kind, reused: reused, retried: stage.retried),
                                       request: request, responseStarted: false))
        legPauses = []
        sink.record(.upstreamConnected(flow: flow, server: server(), tls: tls, reused: reused, time: now))
        if kind == .http1, captureBackedUp { pauseLeg(.captureBackedUp, sink) }
        let endStream: Bool
        switch kind {
        case .http2:
            // An extended CONNECT stays open: its DATA is the WebSocket.
            endStream = !isWebSocket && request.ended && pendingRequestBody.isEmpty && requestTrailers == nil
        case .http1:
            endStream = request.ended && pendingRequestBody.isEmpty
        }
        sink.perform(.sendHead(head(), endStream: endStream))
        // The leg may have failed inside `sendHead` (the connection took no new stream).
        guard case .forwarding(let current) = state, current.leg.attempt == attempt else { return }
        if !pendingRequestBody.isEmpty {
            let pending = pendingRequestBody
            pendingRequestBody = []
            for chunk in pending { sink.perform(.sendBody(chunk)) }
        }
        if request.ended, !endStream, !isWebSocket { sink.perform(.sendEnd(trailers: requestTrailers)) }
        sink.perform(.armResponseDeadline)
    }

    /// No leg for `attempt`: the name did not resolve, the connection or its TLS failed.
    func legFailedToOpen(attempt: UInt32, _ failure: UpstreamFailure, now: Timestamp,
                         _ sink: some HTTP2ExchangeActionSink) {
        guard case .awaitingLeg(let stage) = state, stage.attempt == attempt else { return }
        fail(failure.error, status: failure.status, now: now, sink)
    }

    /// An HTTP/1.1 leg can take more request bytes: what the client sent so far is credited.
    func legWritable(_ sink: some HTTP2ExchangeActionSink) {
        creditClient(clientUnconsumed, sink)
    }

    /// The HTTP/2 leg's session framed `count` request body bytes upstream.
    func requestBodyFramed(_ count: Int, _ sink: some HTTP2ExchangeActionSink) {
        creditClient(count, sink)
    }

    /// The first byte of the response arrived: the response deadline is off.
    func responseStarted(now: Timestamp, _ sink: some HTTP2ExchangeActionSink) {
        guard case .forwarding(var stage) = state, !stage.responseStarted else { return }
        stage.responseStarted = true
        state = .forwarding(stage)
        if timings.value.firstResponseByte == nil { timings.value.firstResponseByte = now }
        sink.perform(.disarmResponseDeadline)
    }

    /// An interim or final head from the leg. An HTTP/2 upstream's block goes through as
    /// is (ending the client's stream when it ended the upstream's); an HTTP/1.1 head is
    /// translated with the framing its parser decided and, for a bodiless response, the
    /// Content-Length it stated. A WebSocket's accepting answer starts its relay instead
    /// (over HTTP/1.1 a 101 checked against `webSocketKey`, the key the bridge sent).
    func responseHead(_ response: LegResponseHead, webSocketKey: @autoclosure () -> String?, now: Timestamp,
                      _ sink: some HTTP2ExchangeActionSink) {
        guard case .forwarding(let stage) = state else { return }
        let head = response.received
        if let fields = response.http2Fields {
            return http2ResponseHead(head, fields: fields, endsStream: response.endsStream, stage, now: now, sink)
        }
        responseStarted(now: now, sink)
        if isWebSocket, !head.isInterim, head.status == 101 || (200..<300).contains(head.status) {
            return switchHTTP1ToWebSocket(head, key: webSocketKey() ?? "", now: now, sink)
        }
        sink.record(.responseHead(flow: flow, head: head, time: now))
        var forwarded = head
        // One content-length of the decided (or, bodiless, stated) value: `5, 5` or two
        // content-length fields make an HTTP/2 response malformed (RFC 9113 §8.1.1).
        let framing = response.framing
        forwarded.headers = framing != .none ? HTTP1HeadRewriter.framed(head.headers, framing)
            : HTTP1HeadRewriter.bodilessResponseFields(head.headers, statedContentLength: response.statedContentLength)
        let fields = HTTP2HeadTranslator.http2Response(forwarded)
        if head.isInterim { return sink.perform(.sendInformational(fields)) }
        sendResponseHead(fields, endStream: framing == .none, stage, sink)
    }

    /// A response block (interim or final) from an HTTP/2 stream leg; `endsStream`: the
    /// block ended the upstream's stream (its leg reports the end that follows).
    func responseBlock(_ fields: HTTPHeaders, endsStream: Bool, now: Timestamp, _ sink: some HTTP2ExchangeActionSink) {
        guard case .forwarding(let stage) = state else { return }
        http2ResponseHead(HTTP2HeadTranslator.capturedResponse(fields), fields: fields, endsStream: endsStream, stage,
                          now: now, sink)
    }

    /// A head from an HTTP/2 upstream stream (`head` as the capture records it). A 2xx to
    /// an extended CONNECT that keeps the stream open makes the stream the WebSocket's.
    private func http2ResponseHead(_ head: HTTPResponseHead, fields: HTTPHeaders, endsStream: Bool, _ stage: Forwarding,
                                   now: Timestamp, _ sink: some HTTP2ExchangeActionSink) {
        sink.record(.responseHead(flow: flow, head: head, time: now))
        if head.isInterim { return sink.perform(.sendInformational(fields)) }
        if isWebSocket, stage.leg.kind == .http2, (200..<300).contains(head.status), !endsStream {
            state = .webSocketRelaying
            return sink.perform(.startWebSocketRelay(clientFields: fields, handshake: head))
        }
        sendResponseHead(fields, endStream: endsStream, stage, sink)
    }

    /// The HTTP/1.1 upstream answered the WebSocket's Upgrade: a valid 101 starts the
    /// relay (the 101 is what the capture records); anything else in 1xx/2xx is a 502.
    private func switchHTTP1ToWebSocket(_ response: HTTPResponseHead, key: String, now: Timestamp,
                                        _ sink: some HTTP2ExchangeActionSink) {
        let clientFields: HTTPHeaders
        do throws(ExtendedConnectError) {
            clientFields = try ExtendedConnectTranslator.http2Response(toUpgrade: response, key: key)
        } catch {
            return fail(FlowError(.badResponse, "\(environment.upstreamHostPort): \(error)"), status: 502, now: now, sink)
        }
        sink.record(.responseHead(flow: flow, head: response, time: now))
        state = .webSocketRelaying
        sink.perform(.startWebSocketRelay(clientFields: clientFields, handshake: response))
    }

    private func sendResponseHead(_ fields: HTTPHeaders, endStream: Bool, _ stage: Forwarding,
                                  _ sink: some HTTP2ExchangeActionSink) {
        state = .responding(Responding(leg: stage.leg, request: stage.request, responseBodyBytes: 0))
        sink.perform(.sendResponseHead(fields, endStream: endStream))
    }

    /// The session refused the response head (or a WebSocket's 200) for the client's
    /// stream: the flow ends client-aborted.
    func responseHeadUndeliverable(_ reason: String, now: Timestamp, _ sink: some HTTP2ExchangeActionSink) {
        switch state {
        case .responding:
            break
        case .webSocketRelaying:
            state = .over(Over(request: RequestProgress(ended: true)))
            timings.value.done = now
            sink.record(.flowEnded(flow: flow, timings: timings.value, bytesFromClient: 0, bytesFromServer: 0,
                                   error: FlowError(.clientAborted, "cannot answer the client's stream: \(reason)"),
                                   time: now))
            return sink.perform(.cancelLeg(.cancel))
        case .awaitingLeg, .forwarding, .responseComplete, .over:
            return
        }
        endFlow(FlowError(.clientAborted, "cannot answer the client's stream: \(reason)"), now: now, sink)
        sink.perform(.cancelLeg(.cancel))
    }

    /// Response body bytes toward the client. An HTTP/1.1 leg is paused (`clientSlow`)
    /// while the stream has `HTTPClientBufferLimits.http2StreamSendQueue` queued, until
    /// `responseDelivered` brings it below; an HTTP/2 stream is held back by its window.
    func responseBody(_ bytes: [UInt8], queuedToClient: @autoclosure () -> Int, _ sink: some HTTP2ExchangeActionSink) {
        guard case .responding(var stage) = state else { return }
        stage.responseBodyBytes += UInt64(bytes.count)
        state = .responding(stage)
        sink.recordBody(flow, isRequest: false, bytes[...])
        sink.perform(.sendData(bytes))
        if stage.leg.kind == .http1, !legPauses.contains(.clientSlow),
           queuedToClient() >= HTTPClientBufferLimits.http2StreamSendQueue {
            pauseLeg(.clientSlow, sink)
        }
    }

    /// The response ended, with its trailers as received. A refused WebSocket upgrade's
    /// flow is over then, even if the client keeps its side open.
    func responseEnd(trailers: HTTPHeaders?, now: Timestamp, _ sink: some HTTP2ExchangeActionSink) {
        guard case .responding(let stage) = state else { return }
        let refusedUpgrade = isWebSocket
        state = refusedUpgrade ? .over(Over(request: stage.request))
            : .responseComplete(ResponseComplete(leg: stage.leg, request: stage.request,
                                                 responseBodyBytes: stage.responseBodyBytes))
        sink.record(.responseEnd(flow: flow, trailers: trailers, bodyBytes: stage.responseBodyBytes, time: now))
        sink.perform(.finish(trailers: HTTP2HeadTranslator.http2Trailers(trailers)))
        if refusedUpgrade {
            recordFlowEnded(nil, request: stage.request, responseBytes: stage.responseBodyBytes, now: now, sink)
            sink.perform(.webSocketUpgradeRefused)
        }
        if stage.leg.kind == .http1 { sink.perform(.releaseLeg) }
    }

    /// The leg failed (connection lost, bad response). A request that went over a
    /// pooled HTTP/1.1 connection the server closed as we reused it (RFC 9112 §9.3.1)
    /// goes once more, on a new connection, when `StaleConnectionRetryRule` allows it;
    /// anything else fails the exchange (an HTTP/2 stream is never resent: a GOAWAY says
    /// which streams the upstream left unprocessed, and those are refused to the client).
    func legFailed(_ error: FlowError, now: Timestamp, _ sink: some HTTP2ExchangeActionSink) {
        if case .forwarding(let stage) = state, stage.leg.kind == .http1,
           StaleConnectionRetryRule.allowsResend(method: method, requestHasBody: stage.request.bodyBytes > 0,
                                                 requestComplete: stage.request.ended,
                                                 overReusedConnection: stage.leg.reused,
                                                 responseStarted: stage.responseStarted,
                                                 alreadyResent: stage.leg.retried) {
            sink.perform(.disarmResponseDeadline)
            sink.perform(.cancelLeg(.cancel))
            return openLeg(retry: true, request: stage.request, sink)
        }
        upstreamLost(error, now: now, sink)
    }

    /// The exchange's upstream is gone (its connection lost, a bad response): 502, or a
    /// reset once the head went; nothing once the response was complete. While a leg is
    /// awaited there is none to lose: the event is a late one of a leg given up (the
    /// shared upstream closing under a retry), and changes nothing.
    func upstreamLost(_ error: FlowError, now: Timestamp, _ sink: some HTTP2ExchangeActionSink) {
        switch state {
        case .forwarding, .responding: fail(error, status: 502, now: now, sink)
        case .awaitingLeg, .responseComplete, .webSocketRelaying, .over: break
        }
    }

    /// The exchange's HTTP/2 upstream stream ended otherwise than with its response. A
    /// reset reaches the client's stream with the upstream's code (INTERNAL_ERROR for
    /// NO_ERROR) after what was relayed before it; NO_ERROR after a complete response
    /// while the client still uploads is RFC 9113 §8.1's "send no more" (Go servers send
    /// it when a handler leaves the body unread): the exchange is over, and the client is
    /// asked to stop too, after the response. A stream a GOAWAY refused is refused to the
    /// client (it may retry); any other close before the response ended is a 502, or a
    /// reset once a head was sent.
    func upstreamStreamEnded(_ end: HTTP2StreamEnd, now: Timestamp, _ sink: some HTTP2ExchangeActionSink) {
        let hostPort = environment.upstreamHostPort
        switch end {
        case .resetByUpstream(let code):
            sink.record(.http2StreamReset(flow: flow, fromClient: false, errorCode: code.rawValue, time: now))
            switch state {
            case .responseComplete(let stage):
                guard code == .noError, !stage.request.ended else { return }
                endFlow(nil, now: now, sink)
                sink.perform(.stopPeerAfterOurEnd)
            case .forwarding, .responding:
                sink.perform(.cancelLeg(.cancel))
                endFlow(FlowError(.upstreamAborted, "\(hostPort) reset the stream with \(code)"), now: now, sink)
                sink.perform(.resetClient(code == .noError ? .internalError : code, afterQueuedData: true))
            case .awaitingLeg, .webSocketRelaying, .over:
                break
            }
        case .closed(let code):
            let headSent: Bool
            switch state {
            case .forwarding: headSent = false
            case .responding: headSent = true
            case .awaitingLeg, .responseComplete, .webSocketRelaying, .over: return
            }
            let message = code == .refusedStream
                ? "\(hostPort) refused the stream (GOAWAY or REFUSED_STREAM)"
                : "\(hostPort) closed the stream with \(code) before the response was complete"
            guard headSent || code == .refusedStream else {
                return fail(FlowError(.upstreamAborted, message), status: 502, now: now, sink)
            }
            sink.perform(.cancelLeg(.cancel))
            endFlow(FlowError(.upstreamAborted, message), now: now, sink)
            sink.perform(.resetClient(code == .noError ? .internalError : code, afterQueuedData: true))
        }
    }

    // MARK: Time, connection and shutdown

    /// The response deadline passed: 504 unless a byte of the response came.
    func responseDeadlinePassed(now: Timestamp, _ sink: some HTTP2ExchangeActionSink) {
        guard case .forwarding(let stage) = state, !stage.responseStarted else { return }
        fail(FlowError(.upstreamTimeout, "\(environment.upstreamHostPort) sent no response within "
                       + TimeoutText.seconds(environment.responseTimeout)), status: 504, now: now, sink)
    }

    /// The session told the client to calm down and reads no more of its input: a stream
    /// that still waits for it (a request body, a WebSocket) is cut with `error` and reset
    /// ENHANCE_YOUR_CALM after what is queued; a complete request is still answered.
    func calmDownCut(_ error: FlowError, now: Timestamp, _ sink: some HTTP2ExchangeActionSink) {
        guard !request.ended || isWebSocket else { return }
        if !flowIsOver {
            endFlow(error, now: now, sink)
            sink.perform(.cancelLeg(.cancel))
        }
        sink.perform(.resetClient(.enhanceYourCalm, afterQueuedData: true))
    }

    /// The client connection closed under the exchange (`error` says how).
    func clientConnectionClosed(_ error: FlowError, now: Timestamp, _ sink: some HTTP2ExchangeActionSink) {
        endFlow(error, now: now, sink)
        sink.perform(.cancelLeg(.cancel))
    }

    /// Shutdown's grace ran out with the exchange in flight.
    func abort(now: Timestamp, _ sink: some HTTP2ExchangeActionSink) {
        guard !flowIsOver else { return }
        endFlow(FlowError(.shutdown, "Tapline was shut down while the stream was in flight"), now: now, sink)
        sink.perform(.cancelLeg(.cancel))
    }

    /// The capture's queue is backed up: an HTTP/1.1 leg reads no more until it drains.
    func captureBackedUpReported(_ sink: some HTTP2ExchangeActionSink) {
        guard !captureBackedUp else { return }
        captureBackedUp = true
        if carriesHTTP1Leg { pauseLeg(.captureBackedUp, sink) }
    }

    /// The capture drained: what it paused reads again (what a slow client holds does not).
    func captureDrained(_ sink: some HTTP2ExchangeActionSink) {
        guard captureBackedUp else { return }
        captureBackedUp = false
        resumeLeg(.captureBackedUp, sink)
    }

    // MARK: Decisions shared by the events

    /// The exchange holds an HTTP/1.1 leg in flight.
    private var carriesHTTP1Leg: Bool {
        switch state {
        case .forwarding(let stage): return stage.leg.kind == .http1
        case .responding(let stage): return stage.leg.kind == .http1
        case .awaitingLeg, .responseComplete, .webSocketRelaying, .over: return false
        }
    }

    private func openLeg(retry: Bool, request: RequestProgress, _ sink: some HTTP2ExchangeActionSink) {
        attempts &+= 1
        state = .awaitingLeg(AwaitingLeg(attempt: attempts, request: request, retried: retry))
        sink.perform(.openLeg(attempt: attempts, retry: retry))
    }

    /// Ends the flow with `error`: the client gets `status` and the message when no
    /// response head went to it yet, else its stream is reset.
    private func fail(_ error: FlowError, status: Int, now: Timestamp, _ sink: some HTTP2ExchangeActionSink) {
        let headSent: Bool
        switch state {
        case .awaitingLeg, .forwarding: headSent = false
        case .responding, .responseComplete: headSent = true
        case .webSocketRelaying, .over: return
        }
        endFlow(error, now: now, sink)
        sink.perform(.cancelLeg(.cancel))
        // A client still uploading is not reset with NO_ERROR after the answer (RFC 9113
        // §8.1 allows it): curl 7.88 then drops the answer and fails with "Stream error in
        // the HTTP/2 framing layer". Its remaining DATA is credited and discarded instead.
        sink.perform(headSent ? .resetClient(.internalError, afterQueuedData: false)
            : .answer(status: status, message: error.message, headRequest: method == "HEAD"))
    }

    /// Records `flowEnded` once (not after the WebSocket relay took the flow over).
    private func endFlow(_ error: FlowError?, now: Timestamp, _ sink: some HTTP2ExchangeActionSink) {
        let (request, responseBytes): (RequestProgress, UInt64)
        switch state {
        case .awaitingLeg(let stage): (request, responseBytes) = (stage.request, 0)
        case .forwarding(let stage): (request, responseBytes) = (stage.request, 0)
        case .responding(let stage): (request, responseBytes) = (stage.request, stage.responseBodyBytes)
        case .responseComplete(let stage): (request, responseBytes) = (stage.request, stage.responseBodyBytes)
        case .webSocketRelaying, .over: return
        }
        state = .over(Over(request: request))
        if !pendingRequestBody.isEmpty { pendingRequestBody = [] }
        recordFlowEnded(error, request: request, responseBytes: responseBytes, now: now, sink)
    }

    private func recordFlowEnded(_ error: FlowError?, request: RequestProgress, responseBytes: UInt64, now: Timestamp,
                                 _ sink: some HTTP2ExchangeActionSink) {
        timings.value.done = now
        sink.record(.flowEnded(flow: flow, timings: timings.value, bytesFromClient: request.bodyBytes,
                               bytesFromServer: responseBytes, error: error, time: now))
    }

    private func updateRequest(_ change: (inout RequestProgress) -> Void) {
        switch state {
        case .awaitingLeg(var stage): change(&stage.request); state = .awaitingLeg(stage)
        case .forwarding(var stage): change(&stage.request); state = .forwarding(stage)
        case .responding(var stage): change(&stage.request); state = .responding(stage)
        case .responseComplete(var stage): change(&stage.request); state = .responseComplete(stage)
        case .over(var stage): change(&stage.request); state = .over(stage)
        case .webSocketRelaying: break
        }
    }

    private func creditClient(_ count: Int, _ sink: some HTTP2ExchangeActionSink) {
        let credit = min(count, clientUnconsumed)
        guard credit > 0 else { return }
        clientUnconsumed -= credit
        sink.perform(.creditClient(credit))
    }

    private func pauseLeg(_ reason: LegPauseReason, _ sink: some HTTP2ExchangeActionSink) {
        guard !legPauses.contains(reason) else { return }
        legPauses.insert(reason)
        sink.perform(.pauseLeg(reason))
    }

    private func resumeLeg(_ reason: LegPauseReason, _ sink: some HTTP2ExchangeActionSink) {
        guard legPauses.contains(reason) else { return }
        legPauses.remove(reason)
        sink.perform(.resumeLeg(reason))
    }
}
