import TaplineCapture
import TaplineFlow
import TaplineHTTPClient
import TaplineNet
import TaplineWire

/// Sends one recorded request again over an `HTTPClientLeg` and records the new flow:
/// the owner of the leg for one request, as a proxy exchange is.
///
/// From `begin` it records the flow (`flowStarted`, `flowReplays` naming its source
/// flow, the request head); `send` starts the request on a leg (an HTTP/1.1 leg, or
/// an HTTP/2 stream leg opened beside others on one connection: then `carrier` runs
/// that connection's pump). The request body is read from the capture a chunk at a
/// time while the leg takes it (`isWritable`, `legBecameWritable`), never whole;
/// trailers go with the end. With `Expect: 100-continue` the body waits for a 100 or
/// `continueWaitMilliseconds`, and is not sent when a final response comes first.
/// The response is recorded as it arrives (nothing of it is kept here) and credited
/// back at once. A request that makes no progress for `responseTimeoutMilliseconds` (its
/// response has not started, and the leg took no more of its body) fails as `upstream-timeout`.
///
/// A request that failed on a reused HTTP/1.1 connection the server had already closed
/// is sent once more on a new one when `StaleConnectionRetryRule` allows it (the rule
/// the proxy applies): it asks its owner for that connection, and the flow goes
/// on (a second `upstreamConnected` records it, as the proxy does).
///
/// A WebSocket flow's handshake goes the same way, with a fresh `Sec-WebSocket-Key`;
/// on its 101 the exchange takes the connection over from the leg (`takeOver`) and a
/// `ReplayWebSocket` plays the recorded messages on it; the flow ends when that ends.
/// One recorded over HTTP/2 goes as an RFC 8441 extended CONNECT on a stream of its
/// own (its owner decides whether the server takes one, else `fallBackToHTTP1Upgrade`);
/// on its 2xx the stream becomes a byte stream (`HTTP2StreamLeg.openByteStream`) and the
/// same `ReplayWebSocket` plays the messages over its DATA. The request head is recorded
/// when it is sent (or when the flow fails before), so it is the one sent.
///
/// Ends once: the response ended, or the flow failed (`failed` says why); then
/// `flowEnded` is recorded and the owner is told. The exchange lets go of its leg
/// then; its owner (`ReplayConnection`) decides whether the leg carries another request.
///
/// Thread ownership: confined to the context's loop; owned by its `ReplayConnection`
/// until it ends (an HTTP/2 stream leg also holds it until its stream is over).
final class ReplayExchange: HTTP2StreamLegDelegate {
    /// Request body bytes read from the capture and handed to the leg at a time.
    static let bodyChunkSize = 16 * 1024
    /// How long a request with `Expect: 100-continue` waits for the 100 before sending its body.
    static let continueWaitMilliseconds = 1_000

    let dispatch: ReplayDispatch
    let flowID: FlowID
    let item: ReplayItem
    /// What is recorded of the flow, for its comparison (`takeReplayed`): every event of
    /// the flow the exchange records goes into it directly.
    private let replayed: ReplayedFlowEntry
    /// What is sent: the item's request (a WebSocket handshake's with a fresh key; an
    /// extended CONNECT's HTTP/1.1 Upgrade after `fallBackToHTTP1Upgrade`).
    private(set) var request: ReplayRequest
    /// The WebSocket after a 101, while it runs.
    private var webSocket: ReplayWebSocket?
    private let connectionID: ConnectionID
    private let context: ReplayContext
    /// The connection that made it: asked for a new connection to send the request over
    /// once more, told when the exchange ends.
    private weak var owner: (any ReplayExchangeOwner)?
    /// The request was sent once more after its reused connection was found closed.
    private(set) var wasResent = false
    private var recordedRequestHead = false
    private var recordedRequestEnd = false
    private var leg: (any HTTPClientLeg)?
    /// The HTTP/2 connection's leg when `leg` is one of its concurrent streams.
    private var carrier: HTTP2ClientLeg?
    private var body: ReplayRequestBody?
    private var timings = FlowTimings()
    /// The wait for progress while there is one (from `watches`, given back when it ends).
    private var progressWatch: ReplayProgressWatch?
    private let watches: ReplayProgressWatches
    private var requestEnded = false
    /// The request head said there is nothing after it (no `sendEnd` then).
    private var headEndedRequest = false
    private var awaitingContinue = false
    private var requestBodyBytes: UInt64 = 0
    private var responseBodyBytes: UInt64 = 0
    private var sawFinalHead = false
    /// The request body or the response waits for the capture writer to drain (`ReplayContext.isRecorderBackedUp`).
    private var waitingForRecorder = false
    private var sawResponseStart = false
    /// Why the flow failed, once it did.
    private(set) var failure: FlowError?
    private(set) var isFinished = false

    init(item: ReplayItem, dispatch: ReplayDispatch, connection: ConnectionID, context: ReplayContext,
         watches: ReplayProgressWatches, owner: any ReplayExchangeOwner) {
        self.item = item
        self.watches = watches
        request = item.webSocket == nil ? item.request : item.request.withFreshWebSocketKey()
        self.dispatch = dispatch
        self.connectionID = connection
        self.context = context
        self.owner = owner
        flowID = context.nextFlowID()
        replayed = context.collector.expect(flowID, source: item.source, storedResponseBody: item.storedResponseBody,
                                            byID: item.webSocket != nil)
    }

    /// How long a WebSocket over an HTTP/2 stream waits for the server to end its side
    /// after ours before the stream is reset (only when the flow ends before the server did).
    static let byteStreamCloseGraceMilliseconds = 5_000

    /// The replayed flow as recorded, and its response body as matched, for its comparison
    /// once the exchange ended; nil the second time.
    func takeReplayed() -> (flow: CapturedFlow, responseBody: ReplayedResponseBody)? {
        context.collector.take(replayed)
    }

    /// Records the flow's start.
    func begin() {
        let now = Timestamp.now()
        timings.requestStart = now
        context.record(.flowStarted(flow: flowID, connection: connectionID, kind: .http, scheme: request.scheme,
                                    authority: request.target.authority, time: now), into: replayed)
        context.record(.flowReplays(flow: flowID, sourceFlow: request.sourceFlow, time: now), into: replayed)
    }

    /// The server does not take the extended CONNECT this exchange would send (`reason`
    /// says why, for the note): it sends the HTTP/1.1 Upgrade instead. Before `send`.
    func fallBackToHTTP1Upgrade(because reason: String) {
        guard request.isExtendedConnect, !recordedRequestHead else { return }
        request = request.fallingBackToHTTP1Upgrade()
        context.note(ReplayNotes.webSocketOverHTTP1(flow: item.source.id, because: reason))
    }

    /// Records the request head once: the one sent (its first send), or, for a flow that
    /// failed before, the one it would have sent.
    private func recordRequestHead() {
        guard !recordedRequestHead else { return }
        recordedRequestHead = true
        context.record(.requestHead(flow: flowID, head: request.recordedHead, time: Timestamp.now()), into: replayed)
    }

    /// Sends the request over `leg` (for a concurrent HTTP/2 stream, `carrier` is its connection's leg).
    func send(over leg: any HTTPClientLeg, carrier: HTTP2ClientLeg?, connectionTimings: FlowTimings?) {
        guard !isFinished else { return }
        self.leg = leg
        self.carrier = carrier
        if carrier == nil { leg.delegate = self }
        if let setup = connectionTimings {
            timings.dnsStart = setup.dnsStart; timings.dnsEnd = setup.dnsEnd
            timings.connectStart = setup.connectStart; timings.connectEnd = setup.connectEnd
            timings.tlsStart = setup.tlsStart; timings.tlsEnd = setup.tlsEnd
        }
        recordRequestHead()
        context.record(.upstreamConnected(flow: flowID, server: leg.serverAddress, tls: leg.tls, reused: leg.reused,
                                          time: Timestamp.now()), into: replayed)
        let hasBody = request.bodyBytes > 0 || request.trailers != nil
        headEndedRequest = !hasBody // nothing follows the head but, for an extended CONNECT, the WebSocket's DATA
        leg.sendHead(request.head, endStream: !hasBody && !request.isExtendedConnect)
        if let stream = leg as? HTTP2StreamLeg, stream.stream > 0 {
            context.record(.http2Stream(flow: flowID, streamID: UInt32(stream.stream), time: Timestamp.now()),
                           into: replayed)
        }
        armProgressTimeout()
        if !hasBody {
            endRequest(trailers: nil)
        } else if request.expectsContinue {
            awaitingContinue = true
            context.loop.scheduleTimer(milliseconds: Self.continueWaitMilliseconds) { [weak self] in self?.stopAwaitingContinue() }
        } else {
            body = ReplayRequestBody(request, stored: item.source.requestBody)
            sendBody()
        }
        carrier?.flushConcurrentStreams()
    }

    /// (Re)starts the wait for progress: the response must start, or the leg take more of
    /// the body, within `responseTimeoutMilliseconds`, else the flow fails as `upstream-timeout`.
    private func armProgressTimeout() {
        let watch = progressWatch ?? watches.take()
        progressWatch = watch
        watch.arm(for: self, milliseconds: context.responseTimeoutMilliseconds)
    }

    /// The exchange waits for progress no longer: its watch goes back for the next exchange.
    private func stopProgressTimeout() {
        guard let watch = progressWatch else { return }
        progressWatch = nil
        watches.giveBack(watch)
    }

    /// The wait `armProgressTimeout` started ran out (the message is made only then, not for every flow).
    func progressTimedOut() {
        let seconds = context.responseTimeoutMilliseconds / 1000
        fail(FlowError(.upstreamTimeout, "\(request.target.hostPort) sent no response within \(seconds) s"))
    }

    /// The flow cannot be sent: no leg (the connection failed) or its connection is gone.
    func fail(_ error: FlowError) {
        guard !isFinished else { return }
        leg?.cancel()
        webSocket?.cancel()
        finish(error)
    }

    // MARK: Request body

    private func stopAwaitingContinue() {
        guard awaitingContinue, !isFinished else { return }
        awaitingContinue = false
        if sawFinalHead { return } // the server answered without it: the body is not sent
        body = ReplayRequestBody(request, stored: item.source.requestBody)
        sendBody()
        carrier?.flushConcurrentStreams()
    }

    /// Reads and sends body chunks while the leg takes them; ends the request at the body's end.
    private func sendBody() {
        guard let leg, let body, !requestEnded, !isFinished else { return }
        if !sawResponseStart { armProgressTimeout() } // the leg takes body bytes: progress
        while leg.isWritable {
            if context.isRecorderBackedUp {
                waitForRecorder()
                return
            }
            let chunk: [UInt8]
            do {
                chunk = try body.next(maxBytes: Self.bodyChunkSize)
            } catch {
                fail(FlowError(.badRequest, "flow \(item.source.id): its stored request body cannot be read: \(error)"))
                return
            }
            if chunk.isEmpty {
                body.close()
                self.body = nil
                endRequest(trailers: request.trailers)
                return
            }
            requestBodyBytes += UInt64(chunk.count)
            context.collector.recordBody(flow: flowID, isRequest: true, bytes: chunk[...], time: Timestamp.now(),
                                          into: replayed)
            context.recorded()
            leg.sendBody(chunk[...])
        }
        if let carrier, let stream = leg as? HTTP2StreamLeg { carrier.notifyWhenWritable(stream) }
    }

    private func endRequest(trailers: HTTPHeaders?) {
        guard !requestEnded else { return }
        requestEnded = true
        if !headEndedRequest { leg?.sendEnd(trailers: trailers) }
        guard !recordedRequestEnd else { return } // a resend: recorded the first time
        recordedRequestEnd = true
        let now = Timestamp.now()
        timings.requestSent = now
        context.record(.requestEnd(flow: flowID, trailers: trailers, bodyBytes: requestBodyBytes, time: now),
                       into: replayed)
    }

    // MARK: HTTPClientLegDelegate

    func legResponseStarted(_ leg: any HTTPClientLeg) {
        sawResponseStart = true
        stopProgressTimeout()
        timings.firstResponseByte = Timestamp.now()
    }

    func leg(_ leg: any HTTPClientLeg, receivedHead head: LegResponseHead) {
        guard !isFinished else { return }
        context.record(.responseHead(flow: flowID, head: head.received, time: Timestamp.now()), into: replayed)
        if head.received.isInterim {
            if head.received.status == 100 { stopAwaitingContinue() }
        } else {
            sawFinalHead = true
            guard let script = item.webSocket else { return }
            if head.received.status == 101 {
                openWebSocket(leg, response: head.received, script: script)
            } else if request.isExtendedConnect, (200..<300).contains(head.received.status),
                      let stream = leg as? HTTP2StreamLeg {
                openWebSocket(overStream: stream, response: head.received, script: script)
            }
        }
    }

    /// The server switched to WebSocket: the connection is taken from the leg and the
    /// recorded messages are played on it.
    private func openWebSocket(_ leg: any HTTPClientLeg, response: HTTPResponseHead, script: WebSocketReplayScript) {
        guard let (stream, unparsed) = leg.takeOver() else {
            return fail(FlowError(.badResponse, "\(request.target.hostPort) switched protocols on a connection that cannot be handed over"))
        }
        play(script, over: stream, unparsed: unparsed, response: response)
    }

    /// The server accepted the extended CONNECT (RFC 8441 §5, a 2xx): the recorded
    /// messages are played over the stream's DATA.
    private func openWebSocket(overStream leg: HTTP2StreamLeg, response: HTTPResponseHead, script: WebSocketReplayScript) {
        let carrier = self.carrier
        guard let stream = leg.openByteStream(closeGrace: Self.byteStreamCloseGraceMilliseconds,
                                              needsPump: { [weak carrier] in carrier?.flushConcurrentStreams() }) else {
            return fail(FlowError(.badResponse, "\(request.target.hostPort) accepted the WebSocket on an HTTP/2 stream that is gone"))
        }
        play(script, over: stream, unparsed: [], response: response)
        stream.resumeReading() // a stream over HTTP/2 reads once its delegate is there
    }

    private func play(_ script: WebSocketReplayScript, over stream: any ByteStream, unparsed: [UInt8],
                      response: HTTPResponseHead) {
        stopProgressTimeout() // the WebSocket times its own waits
        let webSocket = ReplayWebSocket(stream: stream, response: response, script: script, source: item.source,
                                        flowID: flowID, server: request.target.hostPort, context: context,
                                        recordedPaceSpeed: context.recordedPaceSpeed)
        self.webSocket = webSocket
        webSocket.start(unparsed: unparsed) { [weak self] error in self?.finish(error) }
    }

    func leg(_ leg: any HTTPClientLeg, receivedBody bytes: ArraySlice<UInt8>) {
        guard !isFinished else { return }
        responseBodyBytes += UInt64(bytes.count)
        context.collector.recordBody(flow: flowID, isRequest: false, bytes: bytes, time: Timestamp.now(),
                                     into: replayed)
        context.recorded()
        leg.consumed(bytes.count)
        if context.isRecorderBackedUp {
            leg.pauseReading(.captureBackedUp)
            waitForRecorder()
        }
    }

    /// Holds the response and the request body until the capture writer drained, then goes on.
    private func waitForRecorder() {
        guard !waitingForRecorder else { return }
        waitingForRecorder = true
        context.whenRecorderDrained { [weak self] in
            guard let self else { return }
            waitingForRecorder = false
            guard !isFinished else { return }
            leg?.resumeReading(.captureBackedUp)
            sendBody()
            carrier?.flushConcurrentStreams()
        }
    }

    func leg(_ leg: any HTTPClientLeg, receivedEnd trailers: HTTPHeaders?) {
        guard !isFinished else { return }
        context.record(.responseEnd(flow: flowID, trailers: trailers, bodyBytes: responseBodyBytes,
                                    time: Timestamp.now()), into: replayed)
        if !requestEnded { leg.cancel() } // the server answered before the body went: stop sending it
        finish(nil)
    }

    func leg(_ leg: any HTTPClientLeg, failed error: FlowError) {
        guard !isFinished else { return }
        if carrier == nil, StaleConnectionRetryRule.allowsResend(
            method: request.recordedHead.method, requestHasBody: request.bodyBytes > 0 || request.trailers != nil,
            requestComplete: requestEnded, overReusedConnection: leg.reused,
            responseStarted: sawResponseStart || leg.responseStarted, alreadyResent: wasResent) {
            wasResent = true
            stopProgressTimeout()
            leg.delegate = nil
            self.leg = nil
            requestEnded = false
            owner?.exchangeWantsNewConnection(self)
            return
        }
        finish(error)
    }

    func legBecameWritable(_ leg: any HTTPClientLeg) {
        sendBody()
        carrier?.flushConcurrentStreams()
    }

    func legFinishedInput(_ leg: any HTTPClientLeg) {}

    // MARK: HTTP2StreamLegDelegate

    func leg(_ leg: HTTP2StreamLeg, framedRequestBody count: Int) {}

    func leg(_ leg: HTTP2StreamLeg, streamEnded end: HTTP2StreamEnd) {
        guard !isFinished else { return }
        switch end {
        case .resetByUpstream(let code), .closed(let code):
            finish(FlowError(.upstreamAborted, "\(request.target.hostPort) reset the HTTP/2 stream with \(code)"))
        }
    }

    // MARK: End

    private func finish(_ error: FlowError?) {
        guard !isFinished else { return }
        isFinished = true
        failure = error
        recordRequestHead()
        stopProgressTimeout()
        body?.close()
        body = nil
        let now = Timestamp.now()
        timings.done = now
        context.record(.flowEnded(flow: flowID, timings: timings, bytesFromClient: requestBodyBytes + (webSocket?.bytesSent ?? 0),
                                  bytesFromServer: responseBodyBytes + (webSocket?.bytesReceived ?? 0), error: error,
                                  time: now), into: replayed)
        webSocket = nil
        if carrier == nil { leg?.delegate = nil }
        leg = nil
        carrier = nil
        owner?.exchangeEnded(self)
    }
}
