import TaplineFlow
import TaplineHTTPClient
import TaplineWire

/// Every decision `HTTP1ProxyHandler` makes about its exchanges, without I/O: no
/// socket, no clock, no recorder. The handler (the shell) parses client bytes and
/// hears its upstream leg, feeds each event to one method here, and carries
/// out the actions it hands back, in order, to the `HTTP1ExchangeActionSink` passed
/// with the event. Modelled on swift-nio's `NIOTypedHTTPServerUpgraderStateMachine`
/// (one method per event, actions out) and swift-nio-http2's `StreamStateMachine`
/// (state as an enum with its data).
///
/// One client connection's exchanges, one at a time (pipelined requests wait in the
/// shell's parser): `State` says where the one in flight is, with only the data
/// that stage has, so e.g. a response's progress exists only once its head went to
/// the client, and a request waiting for its leg has sent nothing upstream.
/// Decided here: which error and status the client gets; the stale keep-alive retry
/// (`StaleConnectionRetryRule`); 1xx toward the client; the response head and its
/// framing; when the exchange is finished and whether the connection and the leg
/// are kept after it; what is recorded and when; how a client's FIN is taken (the
/// rule is in `HTTP1ProxyHandler`'s doc); which deadline runs and what its expiry
/// means; which reasons pause the leg and the client.
///
/// Actions go to a sink as they are decided rather than in a returned collection: an
/// event on the hot path then costs no allocation and no copying of actions (a body
/// chunk is two calls). Carrying one out may feed the machine another event before the
/// first is done (a pooled leg reported at once, a leg failing inside `sendHead`, the
/// client's close): so every method settles `state` before its first action, and
/// whatever it hands out after an action that may re-enter stays right whatever the
/// nested event did (`pullClient` asks the machine before it pulls).
///
/// Times come in with the events (`now`), read by the shell from its `ProxyClock`.
/// Legs are named by the `attempt` of the `openLeg` that asked for them, so a leg
/// that arrives after its exchange is over is discarded, never used.
///
/// Thread ownership: owned by one handler, on its loop. A class so that an event fed
/// while another's actions are carried out is a plain nested call.
final class HTTP1ExchangeStateMachine {
    /// Where the connection's current exchange is.
    enum State {
        /// No exchange: the next request head is awaited (header or idle deadline armed).
        case idle
        /// A request head arrived and its leg is being opened (`attempt`); nothing went
        /// upstream yet on this attempt. Request body events are not taken meanwhile, so
        /// `request` is empty, or complete and bodiless when this is the retry.
        case awaitingLeg(AwaitingLeg)
        /// The head went over a leg; no final response head went to the client yet, so a
        /// failure can still be answered with a clean 502/504.
        case forwarding(Forwarding)
        /// The final response head went to the client: a failure now cuts the connection.
        case responding(Responding)
        /// No more exchanges on this connection: the client is closing, closed, or was
        /// handed to another handler.
        case closed
    }

    /// The data of `State.awaitingLeg`. Each stage's data is one struct of plain values
    /// (the exchange itself is `exchange`): reading or changing the state then copies no
    /// reference, and a tuple payload would be copied through runtime metadata.
    struct AwaitingLeg {
        /// The `openLeg` whose answer is awaited.
        let attempt: UInt32
        let request: RequestProgress
        /// This is the second sending, after a stale keep-alive connection.
        let retried: Bool
    }

    /// The data of `State.forwarding`.
    struct Forwarding {
        let leg: LegUse
        var request: RequestProgress
        /// A byte of the response arrived (interim heads included).
        var responseStarted: Bool
    }

    /// The data of `State.responding`.
    struct Responding {
        let leg: LegUse
        var request: RequestProgress
        var response: ResponseProgress
    }

    /// The leg an exchange's request went over.
    struct LegUse {
        let attempt: UInt32
        /// The connection carried an earlier request (what `StaleConnectionRetryRule` asks).
        let reused: Bool
        /// This is the second sending of the request, after a stale keep-alive connection.
        let retried: Bool
    }

    struct RequestProgress {
        var bodyBytes: UInt64 = 0
        var complete = false
    }

    struct ResponseProgress {
        /// How the body is delimited toward the client (chunked may become until-close for HTTP/1.0).
        let clientFraming: HTTP1BodyFraming
        var bodyBytes: UInt64 = 0
    }

    private(set) var state = State.idle {
        didSet {
            switch state {
            case .idle, .closed: exchange = nil
            case .awaitingLeg, .forwarding, .responding: break
            }
        }
    }
    /// The exchange in flight: set exactly while `state` is `awaitingLeg`, `forwarding`
    /// or `responding` (their data is the exchange's progress), nil otherwise.
    private(set) var exchange: HTTP1Exchange?
    /// The exchange in flight, for the events of the stages that have one.
    private var current: HTTP1Exchange { exchange! }
    /// The deadline armed now, if any.
    private(set) var armedDeadline: HTTP1Deadline?
    /// The connection closes after the exchange in flight (the client asked, the
    /// response is delimited by the close, shutdown, a request left unread).
    private(set) var closeAfterExchange = false
    private(set) var shuttingDown = false
    /// Reasons the upstream leg is paused for now; a new leg is adopted paused for them.
    private(set) var legPauses: LegPauseReason = []
    /// The capture's queue is backed up: the client is not read and the leg is paused until it drains.
    private(set) var captureBackedUp = false

    private let connection: ConnectionID
    /// The client connection's scheme (`http`/`https`), for flows that never got a target.
    private let clientScheme: String
    private let timeouts: ProxyTimeouts
    /// Inside an intercepted tunnel whose upstream could not be reached: every request gets this error.
    private let upstreamFailure: UpstreamFailure?
    /// Connect timings of an upstream opened before the first request; given to the first exchange.
    private var preconnectTimings: FlowTimings?
    private let nextFlowID: () -> FlowID
    private var attempts: UInt32 = 0

    init(connection: ConnectionID, clientScheme: String, timeouts: ProxyTimeouts,
         upstreamFailure: UpstreamFailure? = nil, preconnectTimings: FlowTimings? = nil,
         nextFlowID: @escaping () -> FlowID) {
        self.connection = connection
        self.clientScheme = clientScheme
        self.timeouts = timeouts
        self.upstreamFailure = upstreamFailure
        self.preconnectTimings = preconnectTimings
        self.nextFlowID = nextFlowID
    }

    // MARK: Queries

    /// The shell may pull request events from its parser: the request in flight is
    /// still arriving over a leg that has its head, or no exchange is in flight and the
    /// next request is welcome. (Whether the leg takes bytes now is the shell's to ask.)
    var acceptsRequestEvents: Bool {
        switch state {
        case .idle: return !shuttingDown
        case .forwarding(let stage): return !stage.request.complete
        case .responding(let stage): return !stage.request.complete
        case .awaitingLeg, .closed: return false
        }
    }

    /// An exchange is in flight.
    var hasExchange: Bool {
        switch state {
        case .awaitingLeg, .forwarding, .responding: return true
        case .idle, .closed: return false
        }
    }

    var isClosed: Bool { if case .closed = state { true } else { false } }

    /// The request in flight was received whole.
    var requestInFlightIsComplete: Bool {
        switch state {
        case .awaitingLeg(let stage): return stage.request.complete
        case .forwarding(let stage): return stage.request.complete
        case .responding(let stage): return stage.request.complete
        case .idle, .closed: return false
        }
    }

    // MARK: Client events

    /// The handler starts serving: the first head is due within `headerTimeLeft`
    /// milliseconds (what is left of a header timeout that began at accept), else the header timeout.
    func start(headerTimeLeft: Int?, _ sink: any HTTP1ExchangeActionSink) {
        arm(.header, milliseconds: headerTimeLeft, sink)
    }

    /// Bytes of the client arrived: between exchanges the header deadline starts with the first.
    func clientBytesArrived(_ sink: any HTTP1ExchangeActionSink) {
        guard case .idle = state, armedDeadline != .header else { return }
        arm(.header, sink)
    }

    /// A routed request head: starts its exchange and asks for a leg (or answers with
    /// the tunnel's upstream failure). `upstreamRequest` is the head rewritten for the upstream.
    /// `flowAuthority` is what the flow is recorded under; nil: the target's authority (a
    /// transparent connection's flow is named by its Host while `target` is the address
    /// the client connected to).
    func requestHead(_ head: HTTPRequestHead, framing: HTTP1BodyFraming, target: UpstreamTarget,
                     upstreamRequest: HTTPRequestHead, flowAuthority: String? = nil, now: Timestamp,
                     _ sink: any HTTP1ExchangeActionSink) {
        guard case .idle = state else { return }
        let exchange = HTTP1Exchange(flow: nextFlowID(), request: head, requestFraming: framing, target: target,
                                     upstreamRequest: upstreamRequest)
        exchange.timings.value.requestStart = now
        if let preconnect = preconnectTimings {
            preconnectTimings = nil
            exchange.timings.value.adoptConnectionSetup(from: preconnect)
        }
        if upstreamFailure == nil { attempts &+= 1 }
        self.exchange = exchange
        state = .awaitingLeg(AwaitingLeg(attempt: attempts, request: RequestProgress(), retried: false))
        if upstreamFailure == nil { disarm(sink) } // else `fail` disarms
        sink.record(.flowStarted(flow: exchange.flow, connection: connection, kind: .http,
                                 scheme: target.scheme.rawValue, authority: flowAuthority ?? target.authority, time: now))
        sink.record(.requestHead(flow: exchange.flow, head: head, time: now))
        if let failure = upstreamFailure {
            return fail(failure.error, status: failure.status, now: now, sink)
        }
        sink.perform(.openLeg(exchange, attempt: attempts, reuseAllowed: true))
    }

    /// A request that parsed but cannot be routed (or a CONNECT that cannot be served):
    /// a flow with its head, Tapline's answer with `status`, and the connection closes.
    func requestRefused(_ head: HTTPRequestHead, status: Int, message: String, now: Timestamp,
                        _ sink: any HTTP1ExchangeActionSink) {
        let flow = nextFlowID()
        var timings = FlowTimings()
        timings.requestStart = now
        timings.done = now
        state = .closed
        disarm(sink)
        sink.record(.flowStarted(flow: flow, connection: connection, kind: .http, scheme: clientScheme,
                                          authority: head.headers.first(name: "Host") ?? "", time: now))
        sink.record(.requestHead(flow: flow, head: head, time: now))
        sink.record(.flowEnded(flow: flow, timings: timings, bytesFromClient: 0, bytesFromServer: 0,
                                        error: FlowError(.badRequest, message), time: now))
        sink.perform(.answer(status: status, message: message, headRequest: head.method == "HEAD"))
    }

    /// The parser refused the client's bytes: the exchange in flight fails with the
    /// parser's status, or a flow of its own says why; nothing more is forwarded.
    func requestUnparsable(_ error: HTTP1ParseError, now: Timestamp, _ sink: any HTTP1ExchangeActionSink) {
        let flowError = FlowError(.badRequest, error.description)
        if hasExchange { return fail(flowError, status: error.status, now: now, sink) }
        let flow = nextFlowID()
        var timings = FlowTimings()
        timings.done = now
        state = .closed
        disarm(sink)
        sink.record(.flowStarted(flow: flow, connection: connection, kind: .http, scheme: clientScheme,
                                          authority: "", time: now))
        sink.record(.flowEnded(flow: flow, timings: timings, bytesFromClient: 0, bytesFromServer: 0,
                                        error: flowError, time: now))
        sink.perform(.answer(status: error.status, message: error.description, headRequest: false))
    }

    /// A chunk of the request body (pulled only while `acceptsRequestEvents`).
    func requestBody(_ bytes: ArraySlice<UInt8>, _ sink: any HTTP1ExchangeActionSink) {
        guard case .forwarding(var stage) = state else { return }
        stage.request.bodyBytes += UInt64(bytes.count)
        state = .forwarding(stage)
        // The response deadline counts from the last request byte sent.
        if !stage.responseStarted { arm(.response, sink) }
        sink.recordBody(current.flow, isRequest: true, bytes)
        sink.perform(.sendBody(bytes))
    }

    /// The request ended, with its trailers as received (the leg forwards the forwardable ones).
    func requestEnd(trailers: HTTPHeaders?, now: Timestamp, _ sink: any HTTP1ExchangeActionSink) {
        let exchange: HTTP1Exchange
        let bodyBytes: UInt64
        switch state {
        case .forwarding(var stage):
            stage.request.complete = true
            exchange = current
            bodyBytes = stage.request.bodyBytes
            state = .forwarding(stage)
        case .responding(var stage):
            stage.request.complete = true
            exchange = current
            bodyBytes = stage.request.bodyBytes
            state = .responding(stage)
        case .idle, .awaitingLeg, .closed:
            return
        }
        exchange.timings.value.requestSent = now
        sink.record(.requestEnd(flow: exchange.flow, trailers: trailers, bodyBytes: bodyBytes, time: now))
        sink.perform(.sendEnd(trailers: trailers))
    }

    /// The client's FIN: every byte it will send is in `pipelined`, the shell's parser
    /// (a copy is probed; the requests are still served from the shell's). Judged by
    /// the last request that would be answered (see `HTTP1ProxyHandler`).
    func clientSentEOF(pipelined: HTTP1RequestParser, now: Timestamp, _ sink: any HTTP1ExchangeActionSink) {
        let exchange: HTTP1Exchange
        let request: RequestProgress
        var responseHeadSent = false
        switch state {
        case .idle, .closed:
            return closeClient(sink)
        case .awaitingLeg(let stage):
            (exchange, request) = (current, stage.request)
        case .forwarding(let stage):
            (exchange, request) = (current, stage.request)
        case .responding(let stage):
            (exchange, request) = (current, stage.request)
            responseHeadSent = true
        }
        guard let lastWantsClose = Self.lastAnsweredRequestWantsClose(
            inFlight: exchange.request, complete: request.complete, pipelined: pipelined) else {
            abortByClient("the client closed the connection after \(request.bodyBytes) bytes of the request body",
                          now: now, sink)
            return closeClient(sink)
        }
        guard !lastWantsClose else {
            // The request that says so closes the connection after its response.
            if exchange.clientWantsClose { closeAfterExchange = true }
            return
        }
        abortByClient(responseHeadSent
            ? "the client closed the connection before the response was complete"
            : "the client closed the connection while waiting for the response", now: now, sink)
        closeClient(sink)
    }

    /// Whether the last request the client sent whole, and that would be answered, said
    /// it was the connection's last: the request in flight, or the last complete request
    /// buffered behind it, stopping at the first that says `Connection: close` (nothing
    /// after it is served, RFC 9112 §9.6). Nil when the request in flight is not complete
    /// in what was received.
    static func lastAnsweredRequestWantsClose(inFlight: HTTPRequestHead, complete: Bool,
                                              pipelined: HTTP1RequestParser) -> Bool? {
        var lastComplete: HTTPRequestHead? = complete ? inFlight : nil
        var reading = inFlight
        var probe = pipelined
        while lastComplete.map(HTTP1Exchange.wantsClose) != true, let event = try? probe.nextEvent() {
            switch event {
            case .head(let head): reading = head
            case .body: break
            case .end: lastComplete = reading
            }
        }
        return lastComplete.map(HTTP1Exchange.wantsClose)
    }

    /// The client connection closed (or failed): the exchange in flight ends `client-aborted`.
    func clientClosed(now: Timestamp, _ sink: any HTTP1ExchangeActionSink) {
        switch state {
        case .awaitingLeg, .forwarding, .responding:
            let request = inFlight?.request ?? RequestProgress()
            abortByClient(request.complete
                ? "the client closed the connection before the response was complete"
                : "the client closed the connection after \(request.bodyBytes) bytes of the request body",
                now: now, sink)
        case .idle, .closed:
            state = .closed
            disarm(sink)
        }
    }

    /// Another handler took the client over (CONNECT, h2c upgrade, 101 relay): this one is done with it.
    func clientHandedOver(_ sink: any HTTP1ExchangeActionSink) {
        state = .closed
        disarm(sink)
    }

    /// The client's socket filled up (or drained): the leg stops (or resumes) delivering the response.
    func clientWritabilityChanged(_ isWritable: Bool, _ sink: any HTTP1ExchangeActionSink) {
        if isWritable { resumeLeg(.clientSlow, sink) } else { pauseLeg(.clientSlow, sink) }
    }

    // MARK: Capture

    /// The recorder is backed up: the client is not read and the leg stops, until `captureDrained`.
    func captureBackedUpReported(_ sink: any HTTP1ExchangeActionSink) {
        guard !captureBackedUp else { return }
        captureBackedUp = true
        sink.perform(.updateClientReading)
        pauseLeg(.captureBackedUp, sink)
        sink.perform(.waitForCaptureDrain)
    }

    /// The recorder drained: what the capture paused reads again (what a slow client holds does not).
    func captureDrained(_ sink: any HTTP1ExchangeActionSink) {
        guard captureBackedUp else { return }
        captureBackedUp = false
        sink.perform(.updateClientReading)
        resumeLeg(.captureBackedUp, sink)
    }

    // MARK: Upstream events

    /// The leg asked for by `openLeg(attempt:)` is there; `reused` when its connection
    /// carried an earlier request. `server` and `tls` are what `upstreamConnected` records.
    /// `now` is read only when the event is recorded.
    func legOpened(attempt: UInt32, reused: Bool, server: @autoclosure () -> String, tls: TLSDetails?,
                   now: @autoclosure () -> Timestamp, _ sink: any HTTP1ExchangeActionSink) {
        guard case .awaitingLeg(let stage) = state, stage.attempt == attempt else {
            return sink.perform(.discardOpenedLeg)
        }
        let exchange = current
        state = .forwarding(Forwarding(leg: LegUse(attempt: attempt, reused: reused, retried: stage.retried),
                                       request: stage.request, responseStarted: false))
        sink.perform(.adoptOpenedLeg(pausedFor: legPauses))
        sink.record(.upstreamConnected(flow: exchange.flow, server: server(), tls: tls, reused: reused,
                                       time: now()))
        arm(.response, sink)
        sink.perform(.sendHead(.http1(exchange.upstreamRequest), endStream: !exchange.requestFraming.hasBody))
        sink.perform(.pullClient)
    }

    /// No leg for `attempt`: the name did not resolve, the connection or its TLS failed.
    func legFailedToOpen(attempt: UInt32, _ failure: UpstreamFailure, now: Timestamp,
                         _ sink: any HTTP1ExchangeActionSink) {
        guard case .awaitingLeg(let stage) = state, stage.attempt == attempt else { return }
        fail(failure.error, status: failure.status, now: now, sink)
    }

    /// The first byte of the response arrived.
    func responseStarted(now: Timestamp, _ sink: any HTTP1ExchangeActionSink) {
        guard case .forwarding(var stage) = state, !stage.responseStarted else { return }
        current.timings.value.firstResponseByte = now
        stage.responseStarted = true
        state = .forwarding(stage)
        disarm(sink)
    }

    /// An interim or final head as the upstream sent it. `now` is read only when it is recorded.
    func responseHead(_ response: LegResponseHead, now: @autoclosure () -> Timestamp,
                      _ sink: any HTTP1ExchangeActionSink) {
        guard case .forwarding(let stage) = state else { return }
        let exchange = current
        // An HTTP/2 head becomes the HTTP/1.1 head it stands for; the capture keeps it as received.
        let head = response.received.version == .http2
            ? HTTP2HeadTranslator.http1Response(response.received.headers, framing: response.framing)
            : response.received
        if head.isInterim {
            sink.record(.responseHead(flow: exchange.flow, head: response.received, time: now()))
            // HTTP/1.0 clients do not know 1xx (RFC 9110 §15.2): they get none.
            guard exchange.request.version != .http1_0 else { return }
            var interim = head
            interim.headers = HTTP1HeadRewriter.removeHopByHop(head.headers, keepUpgrade: false)
            interim.version = .http1_1
            return sink.perform(.sendInterimHead(interim))
        }
        if head.status == 101, exchange.isUpgradeRequest {
            sink.record(.responseHead(flow: exchange.flow, head: response.received, time: now()))
            let clientHead = HTTP1HeadRewriter.clientResponse(
                head, framing: .none, clientFraming: .none, closeAfter: false,
                clientVersion: exchange.request.version, isUpgrade: true)
            return sink.perform(.switchProtocols(exchange, response: head, clientHead: clientHead))
        }
        let framing = response.framing
        var clientFraming = framing
        if exchange.clientWantsClose || shuttingDown || !stage.request.complete || framing == .untilClose {
            closeAfterExchange = true
        }
        if framing == .chunked, exchange.request.version == .http1_0 {
            clientFraming = .untilClose
            closeAfterExchange = true
        }
        state = .responding(Responding(leg: stage.leg, request: stage.request,
                                       response: ResponseProgress(clientFraming: clientFraming)))
        sink.record(.responseHead(flow: exchange.flow, head: response.received, time: now()))
        sink.perform(.sendResponseHead(HTTP1HeadRewriter.clientResponse(
            head, framing: framing, clientFraming: clientFraming,
            statedContentLength: response.statedContentLength, closeAfter: closeAfterExchange,
            clientVersion: exchange.request.version, isUpgrade: false)))
    }

    /// A chunk of the response body.
    func responseBody(_ bytes: ArraySlice<UInt8>, _ sink: any HTTP1ExchangeActionSink) {
        guard case .responding(var stage) = state else { return }
        stage.response.bodyBytes += UInt64(bytes.count)
        state = .responding(stage)
        sink.perform(.writeResponseBody(bytes, chunked: stage.response.clientFraming == .chunked))
        sink.recordBody(current.flow, isRequest: false, bytes)
    }

    /// The response ended, with its trailers as received: the exchange is finished.
    func responseEnd(trailers: HTTPHeaders?, now: Timestamp, _ sink: any HTTP1ExchangeActionSink) {
        guard case .responding(let stage) = state else { return }
        let (exchange, request, response) = (current, stage.request, stage.response)
        // Answered before the request was complete (e.g. 413): the rest of the request
        // is unread, so neither connection can be reused.
        if !request.complete { closeAfterExchange = true }
        let closeClient = closeAfterExchange || shuttingDown
        state = closeClient ? .closed : .idle
        exchange.timings.value.done = now
        if response.clientFraming == .chunked {
            sink.perform(.writeLastChunk(trailers: HTTP1HeadRewriter.forwardableTrailers(trailers)))
        }
        sink.record(.responseEnd(flow: exchange.flow, trailers: trailers, bodyBytes: response.bodyBytes,
                                          time: now))
        sink.record(.flowEnded(flow: exchange.flow, timings: exchange.timings.value,
                                        bytesFromClient: request.bodyBytes, bytesFromServer: response.bodyBytes,
                                        error: nil, time: now))
        sink.perform(.finishExchange(keepLeg: request.complete))
        if closeClient {
            armedDeadline = nil
            return sink.perform(.closeClient(afterFlush: true))
        }
        arm(.idle, sink)
        sink.perform(.pullClient)
    }

    /// The response cannot be completed. A request that went over a kept-alive
    /// connection the server closed just as it was reused (RFC 9112 §9.3.1) is sent
    /// once more on a new connection when `StaleConnectionRetryRule` allows it.
    func legFailed(_ error: FlowError, now: Timestamp, _ sink: any HTTP1ExchangeActionSink) {
        switch state {
        case .forwarding(let stage):
            let exchange = current
            let resend = StaleConnectionRetryRule.allowsResend(
                method: exchange.request.method,
                requestHasBody: exchange.requestFraming.hasBody || stage.request.bodyBytes > 0,
                requestComplete: stage.request.complete, overReusedConnection: stage.leg.reused,
                responseStarted: stage.responseStarted, alreadyResent: stage.leg.retried)
            guard resend else { return fail(error, status: 502, now: now, sink) }
            attempts &+= 1
            state = .awaitingLeg(AwaitingLeg(attempt: attempts, request: stage.request, retried: true))
            sink.perform(.openLeg(exchange, attempt: attempts, reuseAllowed: false))
        case .responding:
            fail(error, status: 502, now: now, sink)
        case .idle, .awaitingLeg, .closed:
            break
        }
    }

    /// The upstream switched protocols but its leg cannot hand its transport over (an HTTP/2 stream).
    func protocolSwitchRefused(now: Timestamp, _ sink: any HTTP1ExchangeActionSink) {
        guard case .forwarding = state else { return }
        fail(FlowError(.badResponse,
                       "\(current.target.hostPort) switched protocols on a connection that cannot be handed over"),
             status: 502, now: now, sink)
    }

    // MARK: Time and shutdown

    /// The armed deadline expired. `clientInputIdle`: the shell's parser holds no byte of a request.
    func deadlineFired(now: Timestamp, clientInputIdle: Bool, _ sink: any HTTP1ExchangeActionSink) {
        guard let deadline = armedDeadline else { return }
        armedDeadline = nil
        switch (deadline, state) {
        case (.idle, .idle):
            if clientInputIdle { closeClient(sink) }
        case (.header, .idle):
            // Not a byte of a request: nothing to answer (as nginx does); just hang up.
            if clientInputIdle { return closeClient(sink) }
            state = .closed
            sink.perform(.answer(
                status: 408, message: "the request head was not complete within \(TimeoutText.seconds(timeouts.header))",
                headRequest: false))
        case (.response, .forwarding(let stage)) where !stage.responseStarted:
            responseTimedOut(current, now: now, sink)
        case (.response, .awaitingLeg):
            // Armed when the head went upstream; a retry's new connection runs on the same deadline.
            responseTimedOut(current, now: now, sink)
        default:
            break
        }
    }

    private func responseTimedOut(_ exchange: HTTP1Exchange, now: Timestamp, _ sink: any HTTP1ExchangeActionSink) {
        fail(FlowError(.upstreamTimeout,
                "\(exchange.target.hostPort) sent no response within \(TimeoutText.seconds(timeouts.response))"),
                status: 504, now: now, sink)
    }

    /// Shutdown begins: an idle connection closes now, a busy one after its exchange.
    func beginShutdown(_ sink: any HTTP1ExchangeActionSink) {
        shuttingDown = true
        switch state {
        case .idle: closeClient(sink)
        case .awaitingLeg, .forwarding, .responding: closeAfterExchange = true
        case .closed: break
        }
    }

    /// The shutdown grace is over: the exchange in flight fails (`shutdown`) and the client is closed.
    func shutdownGraceExpired(now: Timestamp, _ sink: any HTTP1ExchangeActionSink) {
        if hasExchange {
            fail(FlowError(.shutdown, "Tapline was shut down while the exchange was in flight"), status: 503,
                 now: now, sink)
        }
        state = .closed
        sink.perform(.closeClient(afterFlush: false))
    }

    // MARK: Decisions shared by the events

    /// The exchange in flight, how far its request came, and its response's progress
    /// once the final head went to the client.
    private var inFlight: (exchange: HTTP1Exchange, request: RequestProgress, response: ResponseProgress?)? {
        switch state {
        case .awaitingLeg(let stage): return (current, stage.request, nil)
        case .forwarding(let stage): return (current, stage.request, nil)
        case .responding(let stage): return (current, stage.request, stage.response)
        case .idle, .closed: return nil
        }
    }

    /// Ends the exchange in flight with `error`: the client gets `status` with the
    /// message when no response head went to it yet, else the connection is cut.
    private func fail(_ error: FlowError, status: Int, now: Timestamp, _ sink: any HTTP1ExchangeActionSink) {
        guard let (exchange, request, response) = inFlight else { return }
        let responseBytes = response?.bodyBytes ?? 0
        let headSent = response != nil
        state = .closed
        exchange.timings.value.done = now
        disarm(sink)
        sink.record(.flowEnded(flow: exchange.flow, timings: exchange.timings.value,
                                        bytesFromClient: request.bodyBytes, bytesFromServer: responseBytes,
                                        error: error, time: now))
        sink.perform(.cancelLeg)
        sink.perform(headSent
            ? .closeClient(afterFlush: false)
            : .answer(status: status, message: error.message, headRequest: exchange.request.method == "HEAD"))
    }

    /// The client left while the exchange was in flight: its flow ends `client-aborted`
    /// with what was relayed so far, and the leg is given up (it cannot be reused mid-exchange).
    private func abortByClient(_ message: String, now: Timestamp, _ sink: any HTTP1ExchangeActionSink) {
        guard let (exchange, request, response) = inFlight else { return }
        let responseBytes = response?.bodyBytes ?? 0
        state = .closed
        exchange.timings.value.done = now
        disarm(sink)
        sink.record(.flowEnded(flow: exchange.flow, timings: exchange.timings.value,
                                        bytesFromClient: request.bodyBytes, bytesFromServer: responseBytes,
                                        error: FlowError(.clientAborted, message), time: now))
        sink.perform(.cancelLeg)
    }

    private func closeClient(_ sink: any HTTP1ExchangeActionSink) {
        state = .closed
        armedDeadline = nil
        sink.perform(.closeClient(afterFlush: false))
    }

    private func arm(_ deadline: HTTP1Deadline, milliseconds: Int? = nil, _ sink: any HTTP1ExchangeActionSink) {
        armedDeadline = deadline
        let fallback: Int
        switch deadline {
        case .idle: fallback = timeouts.idle
        case .header: fallback = timeouts.header
        case .response: fallback = timeouts.response
        }
        sink.perform(.arm(deadline, milliseconds: milliseconds ?? fallback))
    }

    private func disarm(_ sink: any HTTP1ExchangeActionSink) {
        armedDeadline = nil
        sink.perform(.disarm)
    }

    private func pauseLeg(_ reason: LegPauseReason, _ sink: any HTTP1ExchangeActionSink) {
        guard !legPauses.contains(reason) else { return }
        legPauses.insert(reason)
        sink.perform(.pauseLeg(reason))
    }

    private func resumeLeg(_ reason: LegPauseReason, _ sink: any HTTP1ExchangeActionSink) {
        guard legPauses.contains(reason) else { return }
        legPauses.remove(reason)
        sink.perform(.resumeLeg(reason))
    }
}
