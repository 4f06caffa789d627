import TaplineFlow
import TaplineHTTPClient
import TaplineWire

/// Every decision `HTTP1ProxyHandler` makes about its exchanges, without I/O: no
/// socket, no clock, no recorder. The handler (the shell) parses client bytes and
/// hears its upstream leg, feeds each event to one mutating method here, and carries
/// out the `HTTP1ExchangeActions` it gets back. Modelled on swift-nio's
/// `NIOTypedHTTPServerUpgraderStateMachine` (methods that return actions) and
/// swift-nio-http2's `StreamStateMachine` (state as an enum with its data).
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
/// Times come in with the events (`now`), read by the shell from its `ProxyClock`.
/// Legs are named by the `attempt` of the `openLeg` that asked for them, so a leg
/// that arrives after its exchange is over is discarded, never used.
///
/// Thread ownership: a value owned by one handler, on its loop.
struct HTTP1ExchangeStateMachine {
    /// Where the connection's current exchange is.
    enum State {
        /// No exchange: the next request head is awaited (header or idle deadline armed).
        case idle
        /// A request head arrived and its leg is being opened (`attempt`); nothing went
        /// upstream yet on this attempt. Request body events are not taken meanwhile, so
        /// `request` is empty, or complete and bodiless when this is the retry.
        case awaitingLeg(HTTP1Exchange, attempt: UInt32, request: RequestProgress, retried: Bool)
        /// The head went over a leg; no final response head went to the client yet, so a
        /// failure can still be answered with a clean 502/504.
        case forwarding(HTTP1Exchange, LegUse, RequestProgress, responseStarted: Bool)
        /// The final response head went to the client: a failure now cuts the connection.
        case responding(HTTP1Exchange, LegUse, RequestProgress, ResponseProgress)
        /// No more exchanges on this connection: the client is closing, closed, or was
        /// handed to another handler.
        case closed
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

    private(set) var state = State.idle
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
        case .forwarding(_, _, let request, _), .responding(_, _, let request, _): return !request.complete
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
        case .awaitingLeg(_, _, let request, _), .forwarding(_, _, let request, _), .responding(_, _, let request, _):
            return request.complete
        case .idle, .closed: return false
        }
    }

    // MARK: Client events

    /// The handler starts serving: the first head is due within `headerTimeLeft`
    /// milliseconds (what is left of a header timeout that began at accept), else the header timeout.
    mutating func start(headerTimeLeft: Int?) -> HTTP1ExchangeActions {
        arm(.header, milliseconds: headerTimeLeft)
    }

    /// Bytes of the client arrived: between exchanges the header deadline starts with the first.
    mutating func clientBytesArrived() -> HTTP1ExchangeActions {
        guard case .idle = state, armedDeadline != .header else { return HTTP1ExchangeActions() }
        return arm(.header)
    }

    /// A routed request head: starts its exchange and asks for a leg (or answers with
    /// the tunnel's upstream failure). `upstreamRequest` is the head rewritten for the upstream.
    mutating func requestHead(_ head: HTTPRequestHead, framing: HTTP1BodyFraming, target: UpstreamTarget,
                              upstreamRequest: HTTPRequestHead, now: Timestamp) -> HTTP1ExchangeActions {
        guard case .idle = state else { return HTTP1ExchangeActions() }
        let exchange = HTTP1Exchange(flow: nextFlowID(), request: head, requestFraming: framing, target: target,
                                     upstreamRequest: upstreamRequest)
        exchange.timings.value.requestStart = now
        if let preconnect = preconnectTimings {
            preconnectTimings = nil
            exchange.timings.value.adoptConnectionSetup(from: preconnect)
        }
        var records = HTTP1ExchangeActions(
            .record(.flowStarted(flow: exchange.flow, connection: connection, kind: .http,
                                 scheme: target.scheme.rawValue, authority: target.authority, time: now)))
        records.append(.record(.requestHead(flow: exchange.flow, head: head, time: now)))
        if let failure = upstreamFailure {
            state = .awaitingLeg(exchange, attempt: attempts, request: RequestProgress(), retried: false)
            records.append(contentsOf: fail(failure.error, status: failure.status, now: now))
            return records
        }
        var actions = disarm()
        actions.append(contentsOf: records)
        attempts &+= 1
        state = .awaitingLeg(exchange, attempt: attempts, request: RequestProgress(), retried: false)
        actions.append(.openLeg(exchange, attempt: attempts, reuseAllowed: true))
        return actions
    }

    /// A request that parsed but cannot be routed (or a CONNECT that cannot be served):
    /// a flow with its head, Tapline's answer with `status`, and the connection closes.
    mutating func requestRefused(_ head: HTTPRequestHead, status: Int, message: String,
                                 now: Timestamp) -> HTTP1ExchangeActions {
        let flow = nextFlowID()
        var timings = FlowTimings()
        timings.requestStart = now
        timings.done = now
        var actions = disarm()
        actions.append(.record(.flowStarted(flow: flow, connection: connection, kind: .http, scheme: clientScheme,
                                            authority: head.headers.first(name: "Host") ?? "", time: now)))
        actions.append(.record(.requestHead(flow: flow, head: head, time: now)))
        actions.append(.record(.flowEnded(flow: flow, timings: timings, bytesFromClient: 0, bytesFromServer: 0,
                                          error: FlowError(.badRequest, message), time: now)))
        actions.append(.answer(status: status, message: message, headRequest: head.method == "HEAD"))
        state = .closed
        return actions
    }

    /// The parser refused the client's bytes: the exchange in flight fails with the
    /// parser's status, or a flow of its own says why; nothing more is forwarded.
    mutating func requestUnparsable(_ error: HTTP1ParseError, now: Timestamp) -> HTTP1ExchangeActions {
        let flowError = FlowError(.badRequest, error.description)
        if hasExchange { return fail(flowError, status: error.status, now: now) }
        let flow = nextFlowID()
        var timings = FlowTimings()
        timings.done = now
        var actions = disarm()
        actions.append(.record(.flowStarted(flow: flow, connection: connection, kind: .http, scheme: clientScheme,
                                            authority: "", time: now)))
        actions.append(.record(.flowEnded(flow: flow, timings: timings, bytesFromClient: 0, bytesFromServer: 0,
                                          error: flowError, time: now)))
        actions.append(.answer(status: error.status, message: error.description, headRequest: false))
        state = .closed
        return actions
    }

    /// A chunk of the request body (pulled only while `acceptsRequestEvents`).
    mutating func requestBody(_ bytes: ArraySlice<UInt8>) -> HTTP1ExchangeActions {
        guard case .forwarding(let exchange, let leg, var request, let responseStarted) = state else {
            return HTTP1ExchangeActions()
        }
        request.bodyBytes += UInt64(bytes.count)
        state = .forwarding(exchange, leg, request, responseStarted: responseStarted)
        // The response deadline counts from the last request byte sent.
        var actions = responseStarted ? HTTP1ExchangeActions() : arm(.response)
        actions.append(.recordBody(exchange.flow, isRequest: true, bytes))
        actions.append(.sendBody(bytes))
        return actions
    }

    /// The request ended, with its trailers as received (the leg forwards the forwardable ones).
    mutating func requestEnd(trailers: HTTPHeaders?, now: Timestamp) -> HTTP1ExchangeActions {
        let exchange: HTTP1Exchange
        let bodyBytes: UInt64
        switch state {
        case .forwarding(let current, let leg, var request, let responseStarted):
            request.complete = true
            (exchange, bodyBytes) = (current, request.bodyBytes)
            state = .forwarding(current, leg, request, responseStarted: responseStarted)
        case .responding(let current, let leg, var request, let response):
            request.complete = true
            (exchange, bodyBytes) = (current, request.bodyBytes)
            state = .responding(current, leg, request, response)
        case .idle, .awaitingLeg, .closed:
            return HTTP1ExchangeActions()
        }
        exchange.timings.value.requestSent = now
        var actions = HTTP1ExchangeActions(.record(.requestEnd(flow: exchange.flow, trailers: trailers,
                                                               bodyBytes: bodyBytes, time: now)))
        actions.append(.sendEnd(trailers: trailers))
        return actions
    }

    /// The client's FIN: every byte it will send is in `pipelined`, the shell's parser
    /// (a copy is probed; the requests are still served from the shell's). Judged by
    /// the last request that would be answered (see `HTTP1ProxyHandler`).
    mutating func clientSentEOF(pipelined: HTTP1RequestParser, now: Timestamp) -> HTTP1ExchangeActions {
        let exchange: HTTP1Exchange
        let request: RequestProgress
        var responseHeadSent = false
        switch state {
        case .idle, .closed:
            return closeClient()
        case .awaitingLeg(let current, _, let progress, _), .forwarding(let current, _, let progress, _):
            (exchange, request) = (current, progress)
        case .responding(let current, _, let progress, _):
            (exchange, request) = (current, progress)
            responseHeadSent = true
        }
        guard let lastWantsClose = Self.lastAnsweredRequestWantsClose(
            inFlight: exchange.request, complete: request.complete, pipelined: pipelined) else {
            var actions = abortByClient(
                "the client closed the connection after \(request.bodyBytes) bytes of the request body", now: now)
            actions.append(contentsOf: closeClient())
            return actions
        }
        guard !lastWantsClose else {
            // The request that says so closes the connection after its response.
            if exchange.clientWantsClose { closeAfterExchange = true }
            return HTTP1ExchangeActions()
        }
        var actions = abortByClient(responseHeadSent
            ? "the client closed the connection before the response was complete"
            : "the client closed the connection while waiting for the response", now: now)
        actions.append(contentsOf: closeClient())
        return actions
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
    mutating func clientClosed(now: Timestamp) -> HTTP1ExchangeActions {
        switch state {
        case .awaitingLeg(_, _, let request, _), .forwarding(_, _, let request, _), .responding(_, _, let request, _):
            return abortByClient(request.complete
                ? "the client closed the connection before the response was complete"
                : "the client closed the connection after \(request.bodyBytes) bytes of the request body", now: now)
        case .idle, .closed:
            state = .closed
            return disarm()
        }
    }

    /// Another handler took the client over (CONNECT, h2c upgrade, 101 relay): this one is done with it.
    mutating func clientHandedOver() -> HTTP1ExchangeActions {
        state = .closed
        return disarm()
    }

    /// The client's socket filled up (or drained): the leg stops (or resumes) delivering the response.
    mutating func clientWritabilityChanged(_ isWritable: Bool) -> HTTP1ExchangeActions {
        isWritable ? resumeLeg(.clientSlow) : pauseLeg(.clientSlow)
    }

    // MARK: Capture

    /// The recorder is backed up: the client is not read and the leg stops, until `captureDrained`.
    mutating func captureBackedUpReported() -> HTTP1ExchangeActions {
        guard !captureBackedUp else { return HTTP1ExchangeActions() }
        captureBackedUp = true
        var actions = HTTP1ExchangeActions(.updateClientReading)
        actions.append(contentsOf: pauseLeg(.captureBackedUp))
        actions.append(.waitForCaptureDrain)
        return actions
    }

    /// The recorder drained: what the capture paused reads again (what a slow client holds does not).
    mutating func captureDrained() -> HTTP1ExchangeActions {
        guard captureBackedUp else { return HTTP1ExchangeActions() }
        captureBackedUp = false
        var actions = HTTP1ExchangeActions(.updateClientReading)
        actions.append(contentsOf: resumeLeg(.captureBackedUp))
        return actions
    }

    // MARK: Upstream events

    /// The leg asked for by `openLeg(attempt:)` is there; `reused` when its connection
    /// carried an earlier request. `server` and `tls` are what `upstreamConnected` records.
    mutating func legOpened(attempt: UInt32, reused: Bool, server: String, tls: TLSDetails?,
                            now: Timestamp) -> HTTP1ExchangeActions {
        guard case .awaitingLeg(let exchange, attempt, let request, let retried) = state else {
            return HTTP1ExchangeActions(.discardOpenedLeg)
        }
        state = .forwarding(exchange, LegUse(attempt: attempt, reused: reused, retried: retried), request,
                            responseStarted: false)
        var actions = HTTP1ExchangeActions(.adoptOpenedLeg(pausedFor: legPauses))
        actions.append(.record(.upstreamConnected(flow: exchange.flow, server: server, tls: tls, reused: reused,
                                                  time: now)))
        actions.append(contentsOf: arm(.response))
        actions.append(.sendHead(.http1(exchange.upstreamRequest), endStream: !exchange.requestFraming.hasBody))
        actions.append(.pullClient)
        return actions
    }

    /// No leg for `attempt`: the name did not resolve, the connection or its TLS failed.
    mutating func legFailedToOpen(attempt: UInt32, _ failure: UpstreamFailure, now: Timestamp) -> HTTP1ExchangeActions {
        guard case .awaitingLeg(_, attempt, _, _) = state else { return HTTP1ExchangeActions() }
        return fail(failure.error, status: failure.status, now: now)
    }

    /// The first byte of the response arrived.
    mutating func responseStarted(now: Timestamp) -> HTTP1ExchangeActions {
        guard case .forwarding(let exchange, let leg, let request, false) = state else { return HTTP1ExchangeActions() }
        exchange.timings.value.firstResponseByte = now
        state = .forwarding(exchange, leg, request, responseStarted: true)
        return disarm()
    }

    /// An interim or final head as the upstream sent it.
    mutating func responseHead(_ response: LegResponseHead, now: Timestamp) -> HTTP1ExchangeActions {
        guard case .forwarding(let exchange, let leg, let request, _) = state else { return HTTP1ExchangeActions() }
        var actions = HTTP1ExchangeActions(.record(.responseHead(flow: exchange.flow, head: response.received, time: now)))
        // An HTTP/2 head becomes the HTTP/1.1 head it stands for; the capture keeps it as received.
        let head = response.received.version == .http2
            ? HTTP2HeadTranslator.http1Response(response.received.headers, framing: response.framing)
            : response.received
        if head.isInterim {
            // HTTP/1.0 clients do not know 1xx (RFC 9110 §15.2): they get none.
            if exchange.request.version != .http1_0 {
                var interim = head
                interim.headers = HTTP1HeadRewriter.removeHopByHop(head.headers, keepUpgrade: false)
                interim.version = .http1_1
                actions.append(.sendInterimHead(interim))
            }
            return actions
        }
        if head.status == 101, exchange.isUpgradeRequest {
            let clientHead = HTTP1HeadRewriter.clientResponse(
                head, framing: .none, clientFraming: .none, closeAfter: false,
                clientVersion: exchange.request.version, isUpgrade: true)
            actions.append(.switchProtocols(exchange, response: head, clientHead: clientHead))
            return actions
        }
        let framing = response.framing
        var clientFraming = framing
        if exchange.clientWantsClose || shuttingDown || !request.complete || framing == .untilClose {
            closeAfterExchange = true
        }
        if framing == .chunked, exchange.request.version == .http1_0 {
            clientFraming = .untilClose
            closeAfterExchange = true
        }
        let clientHead = HTTP1HeadRewriter.clientResponse(
            head, framing: framing, clientFraming: clientFraming,
            statedContentLength: response.statedContentLength, closeAfter: closeAfterExchange,
            clientVersion: exchange.request.version, isUpgrade: false)
        state = .responding(exchange, leg, request, ResponseProgress(clientFraming: clientFraming))
        actions.append(.sendResponseHead(clientHead))
        return actions
    }

    /// A chunk of the response body.
    mutating func responseBody(_ bytes: ArraySlice<UInt8>) -> HTTP1ExchangeActions {
        guard case .responding(let exchange, let leg, let request, var response) = state else {
            return HTTP1ExchangeActions()
        }
        response.bodyBytes += UInt64(bytes.count)
        state = .responding(exchange, leg, request, response)
        var actions = HTTP1ExchangeActions(.writeResponseBody(bytes, chunked: response.clientFraming == .chunked))
        actions.append(.recordBody(exchange.flow, isRequest: false, bytes))
        return actions
    }

    /// The response ended, with its trailers as received: the exchange is finished.
    mutating func responseEnd(trailers: HTTPHeaders?, now: Timestamp) -> HTTP1ExchangeActions {
        guard case .responding(let exchange, _, let request, let response) = state else {
            return HTTP1ExchangeActions()
        }
        var actions = HTTP1ExchangeActions()
        if response.clientFraming == .chunked {
            actions.append(.writeLastChunk(trailers: HTTP1HeadRewriter.forwardableTrailers(trailers)))
        }
        actions.append(.record(.responseEnd(flow: exchange.flow, trailers: trailers, bodyBytes: response.bodyBytes,
                                            time: now)))
        // Answered before the request was complete (e.g. 413): the rest of the request
        // is unread, so neither connection can be reused.
        if !request.complete { closeAfterExchange = true }
        exchange.timings.value.done = now
        actions.append(.record(.flowEnded(flow: exchange.flow, timings: exchange.timings.value,
                                          bytesFromClient: request.bodyBytes, bytesFromServer: response.bodyBytes,
                                          error: nil, time: now)))
        actions.append(.finishExchange(keepLeg: request.complete))
        if closeAfterExchange || shuttingDown {
            state = .closed
            actions.append(.closeClient(afterFlush: true))
            return actions
        }
        state = .idle
        actions.append(contentsOf: arm(.idle))
        actions.append(.pullClient)
        return actions
    }

    /// The response cannot be completed. A request that went over a kept-alive
    /// connection the server closed just as it was reused (RFC 9112 §9.3.1) is sent
    /// once more on a new connection when `StaleConnectionRetryRule` allows it.
    mutating func legFailed(_ error: FlowError, now: Timestamp) -> HTTP1ExchangeActions {
        switch state {
        case .forwarding(let exchange, let leg, let request, let responseStarted):
            let resend = StaleConnectionRetryRule.allowsResend(
                method: exchange.request.method,
                requestHasBody: exchange.requestFraming.hasBody || request.bodyBytes > 0,
                requestComplete: request.complete, overReusedConnection: leg.reused,
                responseStarted: responseStarted, alreadyResent: leg.retried)
            guard resend else { return fail(error, status: 502, now: now) }
            attempts &+= 1
            state = .awaitingLeg(exchange, attempt: attempts, request: request, retried: true)
            return HTTP1ExchangeActions(.openLeg(exchange, attempt: attempts, reuseAllowed: false))
        case .responding:
            return fail(error, status: 502, now: now)
        case .idle, .awaitingLeg, .closed:
            return HTTP1ExchangeActions()
        }
    }

    /// The upstream switched protocols but its leg cannot hand its transport over (an HTTP/2 stream).
    mutating func protocolSwitchRefused(now: Timestamp) -> HTTP1ExchangeActions {
        guard case .forwarding(let exchange, _, _, _) = state else { return HTTP1ExchangeActions() }
        return fail(FlowError(.badResponse,
                              "\(exchange.target.hostPort) switched protocols on a connection that cannot be handed over"),
                    status: 502, now: now)
    }

    // MARK: Time and shutdown

    /// The armed deadline expired. `clientInputIdle`: the shell's parser holds no byte of a request.
    mutating func deadlineFired(now: Timestamp, clientInputIdle: Bool) -> HTTP1ExchangeActions {
        guard let deadline = armedDeadline else { return HTTP1ExchangeActions() }
        armedDeadline = nil
        switch (deadline, state) {
        case (.idle, .idle):
            return clientInputIdle ? closeClient() : HTTP1ExchangeActions()
        case (.header, .idle):
            // Not a byte of a request: nothing to answer (as nginx does); just hang up.
            if clientInputIdle { return closeClient() }
            state = .closed
            return HTTP1ExchangeActions(.answer(
                status: 408, message: "the request head was not complete within \(TimeoutText.seconds(timeouts.header))",
                headRequest: false))
        case (.response, .forwarding(let exchange, _, _, false)), (.response, .awaitingLeg(let exchange, _, _, _)):
            // Armed when the head went upstream; a retry's new connection runs on the same deadline.
            return fail(FlowError(.upstreamTimeout,
                "\(exchange.target.hostPort) sent no response within \(TimeoutText.seconds(timeouts.response))"),
                status: 504, now: now)
        default:
            return HTTP1ExchangeActions()
        }
    }

    /// Shutdown begins: an idle connection closes now, a busy one after its exchange.
    mutating func beginShutdown() -> HTTP1ExchangeActions {
        shuttingDown = true
        switch state {
        case .idle: return closeClient()
        case .awaitingLeg, .forwarding, .responding: closeAfterExchange = true
        case .closed: break
        }
        return HTTP1ExchangeActions()
    }

    /// The shutdown grace is over: the exchange in flight fails (`shutdown`) and the client is closed.
    mutating func shutdownGraceExpired(now: Timestamp) -> HTTP1ExchangeActions {
        var actions = hasExchange
            ? fail(FlowError(.shutdown, "Tapline was shut down while the exchange was in flight"), status: 503, now: now)
            : HTTP1ExchangeActions()
        state = .closed
        actions.append(.closeClient(afterFlush: false))
        return actions
    }

    // MARK: Decisions shared by the events

    /// Ends the exchange in flight with `error`: the client gets `status` with the
    /// message when no response head went to it yet, else the connection is cut.
    private mutating func fail(_ error: FlowError, status: Int, now: Timestamp) -> HTTP1ExchangeActions {
        let exchange: HTTP1Exchange
        let request: RequestProgress
        var responseBytes: UInt64 = 0
        var headSent = false
        switch state {
        case .awaitingLeg(let current, _, let progress, _), .forwarding(let current, _, let progress, _):
            (exchange, request) = (current, progress)
        case .responding(let current, _, let progress, let response):
            (exchange, request) = (current, progress)
            responseBytes = response.bodyBytes
            headSent = true
        case .idle, .closed:
            return HTTP1ExchangeActions()
        }
        exchange.timings.value.done = now
        var actions = disarm()
        actions.append(.record(.flowEnded(flow: exchange.flow, timings: exchange.timings.value,
                                          bytesFromClient: request.bodyBytes, bytesFromServer: responseBytes,
                                          error: error, time: now)))
        actions.append(.cancelLeg)
        actions.append(headSent
            ? .closeClient(afterFlush: false)
            : .answer(status: status, message: error.message, headRequest: exchange.request.method == "HEAD"))
        state = .closed
        return actions
    }

    /// The client left while the exchange was in flight: its flow ends `client-aborted`
    /// with what was relayed so far, and the leg is given up (it cannot be reused mid-exchange).
    private mutating func abortByClient(_ message: String, now: Timestamp) -> HTTP1ExchangeActions {
        let exchange: HTTP1Exchange
        let request: RequestProgress
        var responseBytes: UInt64 = 0
        switch state {
        case .awaitingLeg(let current, _, let progress, _), .forwarding(let current, _, let progress, _):
            (exchange, request) = (current, progress)
        case .responding(let current, _, let progress, let response):
            (exchange, request) = (current, progress)
            responseBytes = response.bodyBytes
        case .idle, .closed:
            return HTTP1ExchangeActions()
        }
        exchange.timings.value.done = now
        var actions = disarm()
        actions.append(.record(.flowEnded(flow: exchange.flow, timings: exchange.timings.value,
                                          bytesFromClient: request.bodyBytes, bytesFromServer: responseBytes,
                                          error: FlowError(.clientAborted, message), time: now)))
        actions.append(.cancelLeg)
        state = .closed
        return actions
    }

    private mutating func closeClient() -> HTTP1ExchangeActions {
        state = .closed
        armedDeadline = nil
        return HTTP1ExchangeActions(.closeClient(afterFlush: false))
    }

    private mutating func arm(_ deadline: HTTP1Deadline, milliseconds: Int? = nil) -> HTTP1ExchangeActions {
        armedDeadline = deadline
        let fallback: Int
        switch deadline {
        case .idle: fallback = timeouts.idle
        case .header: fallback = timeouts.header
        case .response: fallback = timeouts.response
        }
        return HTTP1ExchangeActions(.arm(deadline, milliseconds: milliseconds ?? fallback))
    }

    private mutating func disarm() -> HTTP1ExchangeActions {
        armedDeadline = nil
        return HTTP1ExchangeActions(.disarm)
    }

    private mutating func pauseLeg(_ reason: LegPauseReason) -> HTTP1ExchangeActions {
        guard !legPauses.contains(reason) else { return HTTP1ExchangeActions() }
        legPauses.insert(reason)
        return HTTP1ExchangeActions(.pauseLeg(reason))
    }

    private mutating func resumeLeg(_ reason: LegPauseReason) -> HTTP1ExchangeActions {
        guard legPauses.contains(reason) else { return HTTP1ExchangeActions() }
        legPauses.remove(reason)
        return HTTP1ExchangeActions(.resumeLeg(reason))
    }
}
