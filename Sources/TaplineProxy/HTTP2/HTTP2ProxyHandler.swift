import TaplineFlow
import TaplineHTTP2
import TaplineHTTPClient
import TaplineNet
import TaplineWire

/// Proxies one HTTP/2 client connection (h2 over TLS, or h2c): a server-role
/// `HTTP2Session` toward the client; each client stream becomes one flow and
/// one upstream stream, on an HTTP/2 upstream connection shared by the
/// connection's streams, or on an HTTP/1.1 connection of its own: a new one,
/// or an idle keep-alive one an earlier stream left for it; `legs`
/// (`HTTP2ExchangeLegs`) chooses which.
///
/// Everything runs from one pump (`pump()`): it hands the client session's
/// events to the exchanges, dispatches the upstream connection's events,
/// and writes both sessions' output while their sockets are writable, until
/// nothing is left to do. Socket callbacks only feed bytes in and call `pump`.
///
/// The handler is the I/O shell of its streams: every decision about one stream's
/// exchange (what is recorded, statuses and resets, retries, pauses, credit, deadlines'
/// meaning) is that stream's `HTTP2ExchangeStateMachine`'s. The handler routes each
/// stream event to the exchange's WebSocket bridge first, else to its machine, with the
/// callback's time; it asks `legs` for a leg when the machine says `openLeg` (which
/// completes with the machine's attempt), and carries the machine's actions out
/// (`carryOut`). Connection-wide matters stay here: the pump (which also dispatches and
/// flushes the shared upstream, `legs.upstream`, and any it replaced that still drain), the upstream's SETTINGS and GOAWAY
/// (recorded here, a GOAWAY passed to the client's schedule, then told to `legs`), the
/// deadlines' timers, the recorder checks, the client connection's close.
///
/// Flow control (decided by the machines, see there): request DATA is credited back
/// to the client only when the upstream session framed it into output (`dataSent`) or
/// it was written to an HTTP/1 upstream socket below its watermark; response DATA likewise. So
/// a stream whose reader stalls holds at most one stream window (1 MiB) in
/// the proxy, and one connection at most its 16 MiB connection window per leg.
///
/// WebSocket over HTTP/2 (RFC 8441): the session announces SETTINGS_ENABLE_CONNECT_PROTOCOL;
/// an extended CONNECT with `:protocol websocket` is bridged to an HTTP/2 upstream that
/// announced it too (the request goes through as is), else to an HTTP/1.1 connection
/// of its own (GET + Upgrade, `ExtendedConnectTranslator`). The exchange's
/// `HTTP2WebSocketBridge` holds that side: the client stream, the handshake, and once the
/// upstream switched the `WebSocketRelay` that owns the flow from then on. Stream events
/// go to the bridge first; it says whether they were the WebSocket's.
///
/// Deadlines (each stream's response timeout, idle, preface, calm-down) are timed by
/// `deadlines`, which says when one passed (`HTTP2ConnectionDeadlinesOwner`); when the
/// client is told GOAWAY is decided by `goAways`.
///
/// Limits: the client's preface (magic and first SETTINGS) is due within the header
/// timeout of `start`, else the connection is closed without a word; a client that
/// sends `HTTP2SessionSettings.maxOversizedHeaderBlocks` header lists over our limit gets
/// its 431s and then GOAWAY ENHANCE_YOUR_CALM from the session, which reads no more. Its
/// streams with a complete request are still answered (`drainAfterCalmDown`), within the
/// idle timeout; those still waiting for its input are reset.
///
/// Thread ownership: confined to `context.loop`. Retained by the context's
/// registry until the client connection closes.
final class HTTP2ProxyHandler: ClientHandler, ByteStreamDelegate, HTTP2UpstreamConnectionOwner,
                               HTTP2ConnectionDeadlinesOwner {
    private let context: ProxyContext
    private let client: any ByteStream
    private let info: ClientConnectionInfo
    private let route: HTTP2Route
    private let session: HTTP2Session
    private var exchanges = HTTP2StreamMap<HTTP2StreamExchange>()
    /// What the exchanges' machines know of this connection.
    private let exchangeEnvironment: HTTP2ExchangeEnvironment
    /// The exchanges' upstream legs: the shared HTTP/2 upstream, its stream legs, the
    /// HTTP/1.1 source, and who waits for which (`HTTP2ExchangeLegs`).
    let legs: HTTP2ExchangeLegs
    /// Stream legs waiting for the next exchanges (a leg that is not recycled is made anew).
    var spareStreamLegCount: Int { legs.spareStreamLegCount }
    /// Inside an intercepted tunnel whose upstream could not be reached: every stream gets this.
    private var upstreamFailure: UpstreamFailure?
    private var preconnectTimings: FlowTimings?
    private var clientClosed = false
    private var pumping = false
    private var pumpAgain = false
    /// The client session's events of one pump round (`HTTP2Session.takeEvents(into:)`):
    /// emptied after each round and handed back, so a round allocates no event array.
    /// Used only by `pump`, which is never reentered.
    private var clientEvents: [HTTP2Event] = []
    private var pausedForRecorder = false
    /// Every stream's response timeout, the idle and preface timeouts, and how long the
    /// streams accepted before a calm-down may take (`drainAfterCalmDown`).
    private let deadlines: HTTP2ConnectionDeadlines
    /// Why the client connection is being closed by us (a protocol error), for `connectionClosed`.
    private var closeReason: String?
    /// When the client is told GOAWAY (an upstream's, shutdown's).
    private var goAways = HTTP2ClientGoAwaySchedule()
    /// After `Upgrade: h2c`: the request of stream 1, started once the client's preface arrived.
    private var upgradedRequest: HTTPHeaders?
    /// When the socket callback being handled began (nil outside one): the time of the
    /// events and timings it produces, read from the clock once per callback.
    private var callbackTime: Timestamp?

    /// - Parameters:
    ///   - session: a server session (a fresh one, or one made from an `Upgrade: h2c` request).
    ///   - upstream: an upstream already connected with ALPN h2 (TLS interception), if any.
    init(context: ProxyContext, client: any ByteStream, info: ClientConnectionInfo, route: HTTP2Route,
         session: HTTP2Session, upstream: UpstreamConnection? = nil, upstreamFailure: UpstreamFailure? = nil,
         preconnectTimings: FlowTimings? = nil) {
        self.context = context
        self.client = client
        self.info = info
        self.route = route
        self.session = session
        self.upstreamFailure = upstreamFailure
        self.preconnectTimings = preconnectTimings
        deadlines = HTTP2ConnectionDeadlines(loop: context.loop, timeouts: context.configuration.timeouts)
        exchangeEnvironment = HTTP2ExchangeEnvironment(
            connection: info.id, clientScheme: info.scheme, targetAuthority: route.target.authority,
            upstreamHostPort: route.target.hostPort, responseTimeout: context.configuration.timeouts.response)
        let forwardedFor = route.isReverse && context.configuration.addForwardedHeaders
            ? (clientIP: info.address.host, scheme: info.scheme) : nil
        legs = HTTP2ExchangeLegs(route: route, connector: context.connector, limits: context.configuration.limits,
                                 idleMilliseconds: context.configuration.timeouts.idle, forwardedFor: forwardedFor)
        deadlines.owner = self
        client.delegate = self
        legs.attach(to: self, upstream: upstream)
    }

    /// A server session with Tapline's settings; nil only when nghttp2 cannot allocate one.
    static func makeSession() -> HTTP2Session? {
        try? HTTP2Session(role: .server)
    }

    /// Starts serving, with bytes already read from the client (sniffed preface). The
    /// preface is due within `headerTimeLeft` milliseconds (what is left of a header
    /// timeout that started at accept), else the header timeout from now.
    func start(initialBytes: [UInt8] = [], headerTimeLeft: Int? = nil) {
        client.resumeReading()
        deadlines.armIdle()
        deadlines.armPreface(milliseconds: headerTimeLeft ?? context.configuration.timeouts.header)
        if !initialBytes.isEmpty {
            receiveFromClient(initialBytes[...])
        } else {
            pump()
        }
    }

    /// Starts serving an upgraded connection: `request` is stream 1 (already complete).
    /// Its response waits for the client's first HTTP/2 bytes (the preface), so nothing
    /// but our SETTINGS follows the 101 before the client has switched (curl needs that).
    func startUpgraded(request fields: HTTPHeaders, initialBytes: [UInt8]) {
        client.resumeReading()
        deadlines.armPreface(milliseconds: context.configuration.timeouts.header)
        upgradedRequest = fields
        if !initialBytes.isEmpty {
            receiveFromClient(initialBytes[...])
        } else {
            pump()
        }
    }

    // MARK: The pump

    private func receiveFromClient(_ bytes: ArraySlice<UInt8>) {
        let outermost = beginCallback()
        defer { if outermost { callbackTime = nil } }
        if let error = session.receive(bytes) {
            closeReason = error.description
        }
        if let fields = upgradedRequest {
            upgradedRequest = nil
            startExchange(stream: 1, fields: fields, endStream: true)
        }
        pump()
        checkRecorder()
    }

    /// Runs until no session has events or output the sockets can take. Reentrant calls
    /// (from inside an event) only ask for another round.
    func pump() {
        if pumping {
            pumpAgain = true
            return
        }
        pumping = true
        repeat {
            pumpAgain = false
            session.takeEvents(into: &clientEvents)
            for event in clientEvents { handleClientEvent(event) }
            clientEvents.removeAll(keepingCapacity: true)
            if session.answersAcceptedStreamsOnly, !deadlines.isCalmingDown { drainAfterCalmDown() }
            legs.upstream?.dispatchEvents()
            if legs.hasDrainingUpstreams { legs.dispatchDrainingUpstreams() }
            flushClient()
            legs.upstream?.flush()
            if legs.hasDrainingUpstreams { legs.flushDrainingUpstreams() }
            if goAways.deferred != nil, exchanges.isEmpty, let goAway = goAways.takeDeferred() {
                session.goAway(code: goAway.code, debugData: goAway.debugData)
                pumpAgain = true
            }
        } while pumpAgain || session.hasEvents || (legs.upstream?.hasEvents ?? false)
        pumping = false
        if !clientClosed, session.isFinished {
            clientClosed = true
            client.closeAfterFlush()
        }
        notifyTunnelWritability()
    }

    /// Tunnels whose queue was framed or whose socket drained get `writabilityChanged`
    /// (their relays paused the other side while they were not writable).
    private func notifyTunnelWritability() {
        let current = exchanges  // relays may end exchanges while we go through them
        current.forEachValue { exchange in exchange.webSocket?.checkWritability() }
    }

    func pumpAfterUpstreamInput() {
        let outermost = beginCallback()
        defer { if outermost { callbackTime = nil } }
        pump()
        checkRecorder()
    }

    /// Reads the clock for a socket callback, unless one is already being handled
    /// (reentrancy); true when this call did (it then clears `callbackTime` at its end).
    ///
    /// Every event of the bytes one read delivered (a dozen requests' heads, bodies
    /// and ends) is stamped with when they were read: at ~25 ns a clock read, reading
    /// it per event was ~1% of a proxied HTTP/2 request's cost.
    private func beginCallback() -> Bool {
        guard callbackTime == nil else { return false }
        callbackTime = Timestamp.now()
        return true
    }

    /// The time to record for an event happening now (see `callbackTime`).
    var eventTime: Timestamp { callbackTime ?? .now() }

    private func flushClient() {
        guard !clientClosed else { return }
        let gathered = !client.coalescesSmallWrites
        while client.isWritable, session.writeOutput(gathered: gathered, to: { client.write($0) }) {}
    }

    /// The session sent GOAWAY ENHANCE_YOUR_CALM and decodes no more of the client's
    /// input: streams whose request is complete are still answered (RFC 9113 §6.8); those
    /// that wait for more of it (a body, a tunnel) never could be and are reset now. The
    /// connection closes when the answered streams are done (`session.isFinished`), or
    /// after the idle timeout, which cuts what is left (`stream(_:didCloseWith:)`).
    private func drainAfterCalmDown() {
        deadlines.startCalmDown()
        let error = calmedDownError
        let current = exchanges  // as in `notifyTunnelWritability`: a snapshot to go through
        current.forEachValue { exchange in exchange.machine.calmDownCut(error, now: eventTime, exchange) }
    }

    /// What a stream the calm-down cut short records: the session's reason, for the
    /// client caused it (it did not close the connection itself).
    private var calmedDownError: FlowError {
        FlowError(.badRequest, "Tapline ended the connection before the stream was complete: "
            + (session.failure?.description ?? "the client was told to calm down (GOAWAY ENHANCE_YOUR_CALM)"))
    }

    // MARK: Client events

    private func handleClientEvent(_ event: HTTP2Event) {
        switch event {
        case .headers(let id, let fields, .request, let endStream):
            startExchange(stream: id, fields: fields, endStream: endStream)
        case .headers(let id, let fields, _, _):
            guard let exchange = exchanges[id] else { return }
            if let webSocket = exchange.webSocket {
                webSocket.clientEnded() // trailers on a tunnel: only its end counts
                return
            }
            exchange.machine.requestTrailers(fields, now: eventTime, exchange)
        case .oversizedHeaders(let id, let fields, let kind, let endStream, let size):
            let error = HTTP2OversizedHeaders.clientError(kind: kind, size: size, limit: session.settings.maxHeaderListSize)
            if kind == .request {
                let exchange = openExchange(stream: id, fields: fields)
                exchange.machine.requestHeadOversized(error, endStream: endStream, now: eventTime, exchange)
            } else if let exchange = exchanges[id] {
                if let webSocket = exchange.webSocket {
                    webSocket.clientEnded()
                } else {
                    exchange.machine.requestTrailersOversized(error, now: eventTime, exchange)
                }
            }
        case .data(let id, let bytes):
            guard let exchange = exchanges[id] else {
                session.consume(stream: id, count: bytes.count)
                return
            }
            if let webSocket = exchange.webSocket {
                webSocket.clientSent(bytes) // credited when the relay takes it
                return
            }
            exchange.machine.requestBody(bytes, exchange)
        case .endStream(let id):
            guard let exchange = exchanges[id] else { return }
            if let webSocket = exchange.webSocket {
                webSocket.clientEnded()
            } else {
                exchange.machine.requestEnd(now: eventTime, exchange)
            }
        case .streamReset(let id, let code):
            guard let exchange = exchanges[id] else { return }
            exchange.machine.clientReset(code, now: eventTime, exchange)
        case .streamClosed(let id, let code):
            clientStreamClosed(id, code: code)
        case .settings:
            deadlines.prefaceArrived()  // the client's first SETTINGS completes its preface
            recordConnectionEvent(event, fromClient: true)
        case .goAway:
            recordConnectionEvent(event, fromClient: true)
        case .dataSent(let id, let count):
            guard let exchange = exchanges[id] else { return }
            exchange.machine.responseDelivered(count, queuedToClient: session.bufferedBytes(stream: id), exchange)
        }
    }

    private func startExchange(stream id: Int32, fields: HTTPHeaders, endStream: Bool) {
        let exchange = openExchange(stream: id, fields: fields)
        if let preconnect = preconnectTimings {
            preconnectTimings = nil
            exchange.timings.value.adoptConnectionSetup(from: preconnect)
        }
        exchange.machine.requestHead(endStream: endStream, upstreamFailure: upstreamFailure, now: eventTime, exchange)
    }

    /// Registers a new client stream as an exchange (its machine records the flow's start).
    private func openExchange(stream id: Int32, fields: HTTPHeaders) -> HTTP2StreamExchange {
        deadlines.cancelIdle()
        let exchange = HTTP2StreamExchange(flow: context.nextFlowID(), clientStream: id, requestFields: fields,
                                           environment: exchangeEnvironment, captureBackedUp: pausedForRecorder,
                                           handler: self)
        exchanges[id] = exchange
        return exchange
    }

    /// Response bytes queued toward the client for `exchange` and not yet framed.
    func queuedToClient(_ exchange: HTTP2StreamExchange) -> Int {
        session.bufferedBytes(stream: exchange.clientStream)
    }

    private func clientStreamClosed(_ id: Int32, code: HTTP2ErrorCode) {
        guard let exchange = exchanges.removeValue(forKey: id) else { return }
        if let webSocket = exchange.webSocket, webSocket.clientStreamClosed(code: code) {
            // The relay closes the upstream side itself (after its queued bytes).
            if exchanges.isEmpty { becameIdle() }
            return
        }
        exchange.machine.clientStreamClosed(code, now: eventTime, exchange)
        if exchanges.isEmpty { becameIdle() }
    }

    /// Detaches the exchange from its upstream leg, resetting / closing it if still open
    /// (an exchange still waiting for its leg stops waiting).
    private func abandonUpstream(_ exchange: HTTP2StreamExchange, code: HTTP2ErrorCode) {
        exchange.responseDeadline = nil
        legs.abandon(exchange, code: code)
    }

    // MARK: Upstream legs

    /// Whether `exchange` is still the one on its client stream (a leg that arrives for
    /// an exchange that ended is discarded).
    func isCurrent(_ exchange: HTTP2StreamExchange) -> Bool {
        exchanges[exchange.clientStream] === exchange
    }

    /// The client connection is closed (or closing): no upstream is wanted any more.
    var isClientClosed: Bool { clientClosed }

    /// The leg of `exchange` failed: the machine retries or fails the exchange.
    func legFailed(_ exchange: HTTP2StreamExchange, error: FlowError) {
        exchange.machine.legFailed(error, now: eventTime, exchange)
        pump()
    }

    func http1UpstreamWritable(_ exchange: HTTP2StreamExchange) {
        guard case .http1(let leg) = exchange.leg, leg.isWritable else { return }
        exchange.machine.legWritable(exchange)
        pump()
    }

    // MARK: Responses

    /// An event of the HTTP/2 upstream stream whose leg relays it to the WebSocket tunnel.
    func tunnelStreamEvent(_ event: HTTP2Event, for exchange: HTTP2StreamExchange) {
        _ = exchange.webSocket?.upstreamStreamEvent(event, context: context, flow: exchange.flow, time: eventTime)
    }

    /// The exchange's upstream failed under its WebSocket relay, or its connection was lost.
    func upstreamLost(_ exchange: HTTP2StreamExchange, error: FlowError) {
        if let webSocket = exchange.webSocket, webSocket.upstreamLost(error) { return }
        exchange.machine.upstreamLost(error, now: eventTime, exchange)
        pump()
    }

    // MARK: Carrying out the machines' actions

    @inline(__always)
    func record(_ event: @autoclosure () -> FlowEvent) {
        context.record(event())
    }

    @inline(__always)
    func recordBody(_ flow: FlowID, isRequest: Bool, _ bytes: ArraySlice<UInt8>) {
        context.recordBody(flow: flow, isRequest: isRequest, bytes: bytes, time: eventTime)
    }

    /// Does what `exchange`'s machine decided, on the client's session, the exchange's
    /// leg or its WebSocket bridge. Failures it meets (the session refusing a head) go
    /// back to the machine as events.
    ///
    /// Inlined into each of the machine's calls (the machine is specialized for
    /// `HTTP2StreamExchange`), so an action costs what its case does: no enum is built
    /// and switched over on the hot path.
    @inline(__always)
    func carryOut(_ action: HTTP2ExchangeAction, for exchange: HTTP2StreamExchange) {
        let id = exchange.clientStream
        switch action {
        case .openLeg(let attempt, let retry):
            exchange.legAttempt = attempt
            legs.openLeg(for: exchange, retry: retry)
        case .discardOpenedLeg:
            abandonUpstream(exchange, code: .cancel)
        case .sendHead(let head, let endStream):
            switch exchange.leg {
            case .http2(let leg): leg.sendHead(head, endStream: endStream)
            case .http1(let leg): leg.sendHead(head, endStream: endStream)
            case .none: break
            }
        case .sendBody(let bytes):
            switch exchange.leg {
            case .http2(let leg):
                leg.sendBody(bytes) // credited when framed (`requestBodyFramed`)
            case .http1(let leg):
                leg.sendBody(bytes[...])
                if leg.isWritable { exchange.machine.legWritable(exchange) } // else when it drains
            case .none:
                break
            }
        case .sendEnd(let trailers):
            switch exchange.leg {
            case .http2(let leg): leg.sendEnd(trailers: trailers)
            case .http1(let leg): leg.sendEnd(trailers: trailers)
            case .none: break
            }
        case .cancelLeg(let code):
            abandonUpstream(exchange, code: code)
        case .releaseLeg:
            guard case .http1(let leg) = exchange.leg else { return }
            exchange.leg = .none
            legs.release(leg)
        case .pauseLeg(let reason):
            switch exchange.leg {
            case .http2(let leg): leg.pauseReading(reason)
            case .http1(let leg): leg.pauseReading(reason)
            case .none: break
            }
        case .resumeLeg(let reason):
            switch exchange.leg {
            case .http2(let leg): leg.resumeReading(reason)
            case .http1(let leg): leg.resumeReading(reason)
            case .none: break
            }
        case .legConsumed(let count):
            if case .http2(let leg) = exchange.leg { leg.consumed(count) }
        case .armResponseDeadline:
            deadlines.armResponseDeadline(for: exchange)
        case .disarmResponseDeadline:
            exchange.responseDeadline = nil
        case .creditClient(let count):
            session.consume(stream: id, count: count)
        case .sendInformational(let fields):
            try? session.submitInformational(stream: id, headers: fields)
        case .sendResponseHead(let fields, let endStream):
            do {
                try session.submitResponse(stream: id, headers: fields, endStream: endStream)
            } catch {
                exchange.machine.responseHeadUndeliverable("\(error)", now: eventTime, exchange)
            }
        case .sendData(let bytes):
            session.send(data: bytes, stream: id)
        case .finish(let trailers):
            session.finish(stream: id, trailers: trailers)
        case .answer(let status, let message, let headRequest):
            answer(stream: id, status: status, message: message, headRequest: headRequest)
        case .resetClient(let code, let afterQueuedData):
            if afterQueuedData { session.resetAfterQueuedData(stream: id, code: code) } else { session.reset(stream: id, code: code) }
        case .stopPeerAfterOurEnd:
            session.stopPeerAfterOurEnd(stream: id)
        case .prepareWebSocketBridge:
            exchange.webSocket = HTTP2WebSocketBridge(session: session, stream: id, transport: client,
                                                      closeGrace: context.configuration.timeouts.webSocketClose) { [weak self] in
                self?.pump()
            }
        case .startWebSocketRelay(let clientFields, let handshake):
            startWebSocketRelay(exchange, clientFields: clientFields, handshake: handshake)
        case .passClientResetToWebSocketRelay(let code):
            _ = exchange.webSocket?.clientReset(code: code)
        case .webSocketUpgradeRefused:
            exchange.webSocket?.upstreamRefused()
        }
    }

    /// Tapline's own answer on stream `id`: `status` with `message` as a text body. A
    /// response to HEAD has no content (RFC 9110 §9.3.2): its head says how long the
    /// message would be, and the stream ends with it. A session that refuses the head
    /// (the stream is closing) gets the stream reset instead.
    private func answer(stream id: Int32, status: Int, message: String, headRequest: Bool) {
        let body = Array("Tapline: \(message)\n".utf8)
        let fields = HTTPHeaders([(":status", String(status)), ("content-type", "text/plain; charset=utf-8"),
                                  ("content-length", String(body.count)), ("x-tapline-error", "1")])
        do {
            try session.submitResponse(stream: id, headers: fields, endStream: headRequest)
            if !headRequest {
                session.send(data: body, stream: id)
                session.finish(stream: id)
            }
        } catch {
            session.reset(stream: id, code: .internalError)
        }
    }

    /// The upstream accepted the WebSocket: the client gets `clientFields` (`:status 200`),
    /// and the bridge's relay takes both sides and the flow over, with the upstream's
    /// stream (HTTP/2; the leg stays the exchange's, `abandonUpstream` resets it if the
    /// client goes) or its HTTP/1.1 connection and the bytes read after the 101.
    private func startWebSocketRelay(_ exchange: HTTP2StreamExchange, clientFields: HTTPHeaders,
                                     handshake: HTTPResponseHead) {
        guard let webSocket = exchange.webSocket else { return }
        let upstream: any ByteStream
        let fromUpstream: [UInt8]
        let upstreamStream: HTTP2TunnelStream?
        switch exchange.leg {
        case .http2(let leg):
            leg.relayStream(to: exchange)
            let stream = webSocket.makeUpstreamStream(on: leg.connection, stream: leg.stream)
            (upstream, fromUpstream, upstreamStream) = (stream, [], stream)
        case .http1(let leg):
            guard let (stream, unparsed) = leg.takeOver() else {
                return exchange.machine.responseHeadUndeliverable("the upstream's connection could not be taken over",
                                                                  now: eventTime, exchange)
            }
            legs.forgetTakenOver(leg) // it let go of its transport
            exchange.leg = .none
            (upstream, fromUpstream, upstreamStream) = (stream, unparsed, nil)
        case .none:
            return exchange.machine.responseHeadUndeliverable("the exchange has no upstream to relay",
                                                              now: eventTime, exchange)
        }
        do {
            try session.submitResponse(stream: exchange.clientStream, headers: clientFields, endStream: false)
        } catch {
            upstream.close()
            exchange.machine.responseHeadUndeliverable("\(error)", now: eventTime, exchange)
            return
        }
        webSocket.startRelay(context: context, info: info, flow: exchange.flow, timings: exchange.timings,
                             upstream: upstream, upstreamStream: upstreamStream, fromUpstream: fromUpstream,
                             tap: WebSocketTap(handshakeResponse: handshake))
    }

    // MARK: HTTP2UpstreamConnectionOwner

    func upstreamConnectionNeedsPump(_ connection: HTTP2UpstreamConnection) {
        pumpAfterUpstreamInput()
    }

    func upstreamConnection(_ connection: HTTP2UpstreamConnection, received event: HTTP2Event) {
        recordConnectionEvent(event, fromClient: false)
        switch event {
        case .settings:
            legs.upstreamSentSettings()
        case .goAway(_, let code, _):
            // The upstream takes no new streams: the client hears the same (see the schedule for when).
            if let goAway = goAways.upstreamSentGoAway(code: code, upstream: route.target.hostPort) {
                session.goAway(code: goAway.code, debugData: goAway.debugData)
            }
        default:
            break
        }
    }

    /// Records a SETTINGS or GOAWAY the client (`fromClient`) or the upstream sent.
    private func recordConnectionEvent(_ event: HTTP2Event, fromClient: Bool) {
        switch event {
        case .settings(let parameters):
            context.record(.http2Settings(connection: info.id, fromClient: fromClient,
                                          settings: parameters.map { HTTP2Setting(identifier: $0.identifier, value: $0.value) },
                                          time: eventTime))
        case .goAway(let last, let code, let debug):
            context.record(.http2GoAway(connection: info.id, fromClient: fromClient, lastStreamID: UInt32(last),
                                        errorCode: code.rawValue, debugData: String(decoding: debug, as: UTF8.self),
                                        time: eventTime))
        default:
            break
        }
    }

    func upstreamConnectionClosed(_ connection: HTTP2UpstreamConnection) {
        legs.upstreamConnectionClosed(connection)
        pump()
    }

    // MARK: HTTP2ConnectionDeadlinesOwner

    /// 504 for every stream whose upstream is late (unless it already answered).
    func responseDeadlinesPassed() {
        let late = deadlines.takeExpiredResponseDeadlines(among: exchanges.values)
        for exchange in late { exchange.machine.responseDeadlinePassed(now: eventTime, exchange) }
        if !late.isEmpty { pump() }
    }

    /// Closes the connection with GOAWAY if it is still idle.
    func idleTimeoutPassed() {
        guard exchanges.isEmpty, !clientClosed else { return }
        session.goAway(code: .noError, debugData: "idle")
        flushClient()
        clientClosed = true
        client.closeAfterFlush()
    }

    /// Closes the connection without a word: the client never spoke HTTP/2.
    func prefaceTimeoutPassed() {
        guard !clientClosed else { return }
        clientClosed = true
        client.close()
    }

    /// Cuts what is left of the streams accepted before the calm-down (`stream(_:didCloseWith:)` records it).
    func calmDownTimeoutPassed() {
        guard !clientClosed else { return }
        flushClient()
        clientClosed = true
        client.closeAfterFlush()
    }

    // MARK: Idle, shutdown, recorder

    /// The last stream in flight ended.
    private func becameIdle() {
        switch goAways.lastStreamEnded() {
        case .goAway(let goAway):
            session.goAway(code: goAway.code, debugData: goAway.debugData)
            pump()
        case .waitForIdleTimeout:
            deadlines.armIdle()
        }
    }

    /// While the capture writer is backed up, no socket of this connection is read:
    /// the client, the shared HTTP/2 upstream and every stream's HTTP/1.1 upstream
    /// (a leg made meanwhile starts paused: its machine knows the capture is backed up).
    private func checkRecorder() {
        guard !pausedForRecorder, context.recorderIsBackedUp else { return }
        pausedForRecorder = true
        client.pauseReading()
        legs.setUpstreamReadingPaused(true)
        exchanges.forEachValue { exchange in exchange.machine.captureBackedUpReported(exchange) }
        context.whenRecorderDrained { [weak self] in
            guard let self else { return }
            self.pausedForRecorder = false
            self.client.resumeReading()
            self.legs.setUpstreamReadingPaused(false)
            self.exchanges.forEachValue { exchange in exchange.machine.captureDrained(exchange) }
        }
    }

    func beginShutdown() {
        let goAway = goAways.beginShutdown()
        legs.closeIdleHTTP1Legs()
        session.goAway(code: goAway.code, debugData: goAway.debugData)
        pump()
        if exchanges.isEmpty, !clientClosed {
            clientClosed = true
            client.closeAfterFlush()
        }
    }

    func abort() {
        for exchange in exchanges.values { exchange.webSocket?.abort() }
        let now = eventTime
        for exchange in exchanges.values { exchange.machine.abort(now: now, exchange) }
        legs.closeAll()
        client.close()
    }

    // MARK: ByteStreamDelegate

    func stream(_ stream: any ByteStream, didRead bytes: ArraySlice<UInt8>) {
        receiveFromClient(bytes)
    }

    func streamDidReadEOF(_ stream: any ByteStream) {
        pump()
        if !clientClosed {
            clientClosed = true
            client.closeAfterFlush()
        }
    }

    /// The client's FIN while it is not read (the recorder is backed up): HTTP/2 has
    /// no half-closed connection, so it left; its unread frames no longer matter.
    func streamPeerHungUpWhilePaused(_ stream: any ByteStream) {
        streamDidReadEOF(stream)
    }

    func stream(_ stream: any ByteStream, writabilityChanged isWritable: Bool) {
        if isWritable { pump() }
    }

    func stream(_ stream: any ByteStream, didCloseWith error: (any Error)?) {
        clientClosed = true
        deadlines.cancelConnectionTimers()
        let cutError = session.answersAcceptedStreamsOnly ? calmedDownError
            : FlowError(.clientAborted, "the client closed the connection before the stream was complete")
        for (_, exchange) in exchanges.entriesByID {
            exchange.webSocket?.clientConnectionClosed(error: error)
            exchange.machine.clientConnectionClosed(cutError, now: eventTime, exchange)
        }
        exchanges.removeAll()
        legs.closeAll()
        // nghttp2 may have ended the session over the client's violation without failing
        // `receive` (a server session learns it when its GOAWAY is framed): `failure` says why.
        let reason = closeReason ?? session.failure?.description
        let reported: (any Error)? = error ?? reason.map { HTTP2ConnectionFailure(message: $0) }
        context.clientConnectionClosed(info, connection: client.transport, error: reported)
    }
}
