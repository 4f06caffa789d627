import TaplineFlow
import TaplineHTTP2
import TaplineHTTPClient
import TaplineNet
import TaplineWire

/// Proxies one HTTP/2 client connection (h2 over TLS, or h2c): a server-role
/// `HTTP2Session` toward the client; each client stream becomes one flow and
/// one upstream stream, on an HTTP/2 upstream connection shared by the
/// connection's streams, or on an HTTP/1.1 connection of its own: a new one,
/// or an idle keep-alive one an earlier stream left in `http1Legs`.
///
/// Everything runs from one pump (`pump()`): it hands the client session's
/// events to the exchanges, dispatches the upstream connection's events,
/// and writes both sessions' output while their sockets are writable, until
/// nothing is left to do. Socket callbacks only feed bytes in and call `pump`.
///
/// Flow control: request DATA is credited back to the client only when the
/// upstream session framed it into output (`dataSent`) or it was written to
/// an HTTP/1 upstream socket below its watermark; response DATA likewise. So
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
    /// The shared HTTP/2 upstream connection, once connected.
    private var upstream: HTTP2UpstreamConnection?
    /// Stream legs of `upstream` whose streams are over, for the next exchanges.
    private var streamLegs = HTTP2StreamLegRecycler()
    /// Stream legs waiting for the next exchanges (a leg that is not recycled is made anew).
    var spareStreamLegCount: Int { streamLegs.spareCount }
    private var connecting = false
    private var waitingForUpstream: [HTTP2StreamExchange] = []
    /// Extended CONNECT streams waiting for the upstream's first SETTINGS (does it take them?).
    private var waitingForSettings: [HTTP2StreamExchange] = []
    /// The https upstream answered ALPN with http/1.1: later streams connect with HTTP/1.1 directly.
    private var upstreamSpeaksHTTP1 = false
    /// Where the streams' HTTP/1.1 legs come from and go back to: idle ones are kept for
    /// this client connection's later streams.
    private lazy var http1Legs = PooledUpstreamLegSource(connector: context.connector,
                                                         limits: context.configuration.limits,
                                                         idleMilliseconds: context.configuration.timeouts.idle)
    /// Inside an intercepted tunnel whose upstream could not be reached: every stream gets this.
    private var upstreamFailure: UpstreamFailure?
    private var preconnectTimings: FlowTimings?
    private var clientClosed = false
    private var pumping = false
    private var pumpAgain = false
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
        deadlines.owner = self
        client.delegate = self
        if let upstream {
            self.upstream = try? HTTP2UpstreamConnection(upstream: upstream, owner: self)
            if self.upstream == nil { upstream.stream.close() }
        }
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
            for event in session.takeEvents() { handleClientEvent(event) }
            if session.answersAcceptedStreamsOnly, !deadlines.isCalmingDown { drainAfterCalmDown() }
            upstream?.dispatchEvents()
            flushClient()
            upstream?.flush()
            if goAways.deferred != nil, exchanges.isEmpty, let goAway = goAways.takeDeferred() {
                session.goAway(code: goAway.code, debugData: goAway.debugData)
                pumpAgain = true
            }
        } while pumpAgain || session.hasEvents || (upstream?.hasEvents ?? false)
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
    private var eventTime: Timestamp { callbackTime ?? .now() }

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
        let current = exchanges  // as in `notifyTunnelWritability`: a snapshot to go through
        current.forEachValue { exchange in
            guard !exchange.requestEnded || exchange.webSocket != nil else { return }
            if exchange.webSocket?.isRelaying != true, !exchange.flowEnded {
                endFlow(exchange, error: calmedDownError)
                abandonUpstream(exchange, code: .cancel)
            }
            session.resetAfterQueuedData(stream: exchange.clientStream, code: .enhanceYourCalm)
        }
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
            exchange.requestTrailers = fields
            endRequest(exchange)
        case .oversizedHeaders(let id, let fields, let kind, let endStream, let size):
            let error = HTTP2OversizedHeaders.clientError(kind: kind, size: size, limit: session.settings.maxHeaderListSize)
            if kind == .request {
                failExchange(openExchange(stream: id, fields: fields, endStream: endStream), error, status: 431)
            } else if let exchange = exchanges[id] {
                if let webSocket = exchange.webSocket { webSocket.clientEnded() } else { failExchange(exchange, error, status: 431) }
            }
        case .data(let id, let bytes):
            if let webSocket = exchanges[id]?.webSocket {
                webSocket.clientSent(bytes) // credited when the relay takes it
                return
            }
            guard let exchange = exchanges[id], !exchange.flowEnded else {
                session.consume(stream: id, count: bytes.count)
                return
            }
            requestBody(bytes, for: exchange)
        case .endStream(let id):
            guard let exchange = exchanges[id] else { return }
            if let webSocket = exchange.webSocket { webSocket.clientEnded() } else { endRequest(exchange) }
        case .streamReset(let id, let code):
            guard let exchange = exchanges[id] else { return }
            context.record(.http2StreamReset(flow: exchange.flow, fromClient: true, errorCode: code.rawValue, time: eventTime))
            if exchange.webSocket?.clientReset(code: code) == true { return }
            endFlow(exchange, error: FlowError(.clientAborted, "the client reset the stream with \(code)"))
            abandonUpstream(exchange, code: code == .noError ? .cancel : code)
        case .streamClosed(let id, let code):
            clientStreamClosed(id, code: code)
        case .settings:
            deadlines.prefaceArrived()  // the client's first SETTINGS completes its preface
            recordConnectionEvent(event, fromClient: true)
        case .goAway:
            recordConnectionEvent(event, fromClient: true)
        case .dataSent(let id, let count):
            guard let exchange = exchanges[id], exchange.webSocket?.isRelaying != true else { return }
            responseDelivered(count, for: exchange)
        }
    }

    private func startExchange(stream id: Int32, fields: HTTPHeaders, endStream: Bool) {
        let exchange = openExchange(stream: id, fields: fields, endStream: endStream)
        if exchange.method == "CONNECT" {
            if let refusal = HTTP2WebSocketBridge.refusal(of: fields, endStream: endStream) {
                failExchange(exchange, refusal.error, status: refusal.status)
                return
            }
            // The head is the whole request; the stream's DATA is the WebSocket, relayed once the upstream switched.
            exchange.webSocket = HTTP2WebSocketBridge(session: session, stream: id, transport: client,
                                                      closeGrace: context.configuration.timeouts.webSocketClose) { [weak self] in
                self?.pump()
            }
            endRequest(exchange)
        }
        if let preconnect = preconnectTimings {
            preconnectTimings = nil
            exchange.timings.value.adoptConnectionSetup(from: preconnect)
        }
        assignUpstream(exchange)
    }

    /// Registers a new client stream as an exchange and records its flow's start and
    /// request head (and the request's end when the head ended the stream).
    private func openExchange(stream id: Int32, fields: HTTPHeaders, endStream: Bool) -> HTTP2StreamExchange {
        deadlines.cancelIdle()
        let flow = context.nextFlowID()
        let pseudo = HTTP2HeadTranslator.requestPseudoHeaders(fields)
        let exchange = HTTP2StreamExchange(flow: flow, clientStream: id, requestFields: fields,
                                           method: pseudo.method ?? "GET", handler: self)
        exchanges[id] = exchange
        let now = eventTime
        exchange.timings.value.requestStart = now
        context.record(.flowStarted(flow: flow, connection: info.id, kind: .http,
                                    scheme: pseudo.scheme ?? info.scheme,
                                    authority: pseudo.authority ?? route.target.authority, time: now))
        context.record(.http2Stream(flow: flow, streamID: UInt32(id), time: now))
        context.record(.requestHead(flow: flow, head: HTTP2HeadTranslator.capturedRequest(fields, pseudo), time: now))
        if endStream { endRequest(exchange) }
        return exchange
    }

    private func requestBody(_ bytes: [UInt8], for exchange: HTTP2StreamExchange) {
        exchange.requestBodyBytes += UInt64(bytes.count)
        exchange.clientUnconsumed += bytes.count
        context.recordBody(flow: exchange.flow, isRequest: true, bytes: bytes[...], time: eventTime)
        switch exchange.leg {
        case .none:
            exchange.pendingRequestBody.append(bytes)
        case .http2(let leg):
            leg.sendBody(bytes) // credited when framed (`requestBodyFramed`)
        case .http1(let leg):
            leg.sendBody(bytes[...])
            if leg.isWritable { creditClient(exchange, exchange.clientUnconsumed) } // else when it drains
        }
    }

    private func endRequest(_ exchange: HTTP2StreamExchange) {
        guard !exchange.requestEnded else { return }
        exchange.requestEnded = true
        let now = eventTime
        exchange.timings.value.requestSent = now
        context.record(.requestEnd(flow: exchange.flow, trailers: exchange.requestTrailers,
                                   bodyBytes: exchange.requestBodyBytes, time: now))
        switch exchange.leg {
        case .none: break
        case .http2(let leg):
            leg.sendEnd(trailers: exchange.requestTrailers)
        case .http1(let leg):
            leg.sendEnd(trailers: exchange.requestTrailers)
        }
    }

    private func creditClient(_ exchange: HTTP2StreamExchange, _ count: Int) {
        let credit = min(count, exchange.clientUnconsumed)
        guard credit > 0 else { return }
        exchange.clientUnconsumed -= credit
        session.consume(stream: exchange.clientStream, count: credit)
    }

    /// Response bytes of `exchange` were framed toward the client: give the upstream its credit back.
    private func responseDelivered(_ count: Int, for exchange: HTTP2StreamExchange) {
        switch exchange.leg {
        case .http2(let leg):
            leg.consumed(count)
        case .http1(let leg):
            leg.consumed(count)
            if queuedToClient(exchange) < HTTPClientBufferLimits.http2StreamSendQueue { leg.resumeReading(.clientSlow) }
        case .none:
            break
        }
    }

    /// Response bytes queued toward the client for `exchange` and not yet framed.
    private func queuedToClient(_ exchange: HTTP2StreamExchange) -> Int {
        session.bufferedBytes(stream: exchange.clientStream)
    }

    private func clientStreamClosed(_ id: Int32, code: HTTP2ErrorCode) {
        guard let exchange = exchanges.removeValue(forKey: id) else { return }
        if let webSocket = exchange.webSocket, webSocket.clientStreamClosed(code: code) {
            // The relay closes the upstream side itself (after its queued bytes).
            if exchanges.isEmpty { becameIdle() }
            return
        }
        if !exchange.flowEnded {
            if exchange.responseComplete && exchange.requestEnded {
                endFlow(exchange, error: nil)
            } else {
                endFlow(exchange, error: FlowError(.clientAborted, code == .noError
                    ? "the stream closed before the exchange was complete"
                    : "the stream was reset with \(code) before the exchange was complete"))
            }
        }
        abandonUpstream(exchange, code: .cancel)
        // Credit for request bytes that were never delivered goes back to the connection window.
        session.consume(stream: id, count: exchange.clientUnconsumed)
        exchange.clientUnconsumed = 0
        if exchanges.isEmpty { becameIdle() }
    }

    /// Detaches the exchange from its upstream leg, resetting / closing it if still open.
    private func abandonUpstream(_ exchange: HTTP2StreamExchange, code: HTTP2ErrorCode) {
        exchange.responseDeadline = nil
        var streamLeg = exchange.takeHTTP2Leg()
        if streamLeg != nil {
            streamLeg?.cancel(code: code)
            streamLegs.recycle(&streamLeg) // detached and held by nobody else: it serves a later stream
            return
        }
        switch exchange.leg {
        case .none:
            waitingForUpstream.removeAll { $0 === exchange }
            waitingForSettings.removeAll { $0 === exchange }
        case .http2:
            break // taken above
        case .http1(let leg):
            if exchange.responseComplete { releaseHTTP1(leg) } else { http1Legs.discard(leg) }
        }
        exchange.leg = .none
    }

    // MARK: Upstream legs

    private func assignUpstream(_ exchange: HTTP2StreamExchange) {
        if let failure = upstreamFailure {
            failExchange(exchange, failure.error, status: failure.status)
            return
        }
        if route.upstreamProtocol == .http1 || upstreamSpeaksHTTP1 {
            connectHTTP1(exchange, reusing: exchange.webSocket == nil) // a WebSocket takes its connection for good
            return
        }
        if let upstream, upstream.canOpenStreams {
            if exchange.webSocket != nil, !upstream.session.peerEnablesConnectProtocol {
                // RFC 8441 needs the upstream's SETTINGS_ENABLE_CONNECT_PROTOCOL: wait for its
                // SETTINGS; without it, the WebSocket goes over HTTP/1.1 on a connection of its own.
                if upstream.receivedSettings { connectHTTP1(exchange, reusing: false) } else { waitingForSettings.append(exchange) }
                return
            }
            openStream(exchange, on: upstream)
            return
        }
        waitingForUpstream.append(exchange)
        if !connecting { connectHTTP2() }
    }

    private func connectHTTP2() {
        guard let first = waitingForUpstream.first else { return }
        connecting = true
        let alpn = route.target.scheme == .https ? ["h2", "http/1.1"] : []
        context.connector.connect(to: route.target, alpn: alpn, timings: first.timings) { [weak self] result in
            guard let self else {
                if case .success(let connection) = result { connection.stream.close() }
                return
            }
            self.connecting = false
            let waiting = self.waitingForUpstream
            self.waitingForUpstream = []
            switch result {
            case .success(let connection) where self.clientClosed:
                connection.stream.close()
            case .success(let connection):
                if self.route.upstreamProtocol == .negotiated, connection.tls?.alpn != "h2" {
                    self.upstreamSpeaksHTTP1 = true
                    // The first waiting stream takes this connection (parked, never used: new).
                    self.http1Legs.adopt(
                        HTTP1ClientLeg(upstream: connection, reused: false, limits: self.context.configuration.limits),
                        under: UpstreamPoolKey(target: self.route.target, offer: .http1))
                    for exchange in waiting { self.connectHTTP1(exchange) }
                } else {
                    self.adoptUpstream(connection, for: waiting)
                }
            case .failure(let failure):
                for exchange in waiting { self.failExchange(exchange, failure.error, status: failure.status) }
            }
            self.pump()
        }
    }

    private func adoptUpstream(_ connection: UpstreamConnection, for waiting: [HTTP2StreamExchange]) {
        do {
            let shared = try HTTP2UpstreamConnection(upstream: connection, owner: self)
            upstream?.close()
            upstream = shared
            streamLegs.removeAll() // they hold the connection they last served
        } catch {
            connection.stream.close()
            for exchange in waiting {
                failExchange(exchange, FlowError(.upstreamUnreachable, "\(error)"), status: 502)
            }
            return
        }
        for exchange in waiting { assignUpstream(exchange) }
    }

    private func openStream(_ exchange: HTTP2StreamExchange, on connection: HTTP2UpstreamConnection) {
        context.record(.upstreamConnected(flow: exchange.flow, server: connection.upstream.serverAddress,
                                          tls: connection.upstream.tls, reused: connection.streamsOpened > 0,
                                          time: eventTime))
        let fields = HTTP2HeadTranslator.http2Request(
            exchange.requestFields, authority: route.isReverse ? route.target.authority : nil,
            forwardedFor: forwardedFor)
        // An extended CONNECT stays open: its DATA is the WebSocket.
        let endStream = exchange.webSocket == nil && exchange.requestEnded && exchange.pendingRequestBody.isEmpty
            && exchange.requestTrailers == nil
        let leg = streamLegs.leg(on: connection, owner: exchange)
        exchange.leg = .http2(leg)
        leg.sendHead(.http2(fields), endStream: endStream)
        guard !exchange.flowEnded else { return } // the connection took no new stream (`legFailed`)
        for chunk in exchange.pendingRequestBody { leg.sendBody(chunk) }
        exchange.pendingRequestBody = []
        if exchange.requestEnded, !endStream, exchange.webSocket == nil {
            leg.sendEnd(trailers: exchange.requestTrailers)
        }
        armResponseTimer(exchange)
    }

    private var forwardedFor: (clientIP: String, scheme: String)? {
        route.isReverse && context.configuration.addForwardedHeaders ? (info.address.host, info.scheme) : nil
    }

    /// Gives the exchange an HTTP/1.1 upstream from `http1Legs`: an idle one unless
    /// `reusing` is false, else a new connection.
    private func connectHTTP1(_ exchange: HTTP2StreamExchange, reusing: Bool = true) {
        let request = UpstreamLegRequest(target: route.target, offer: .http1, timings: exchange.timings)
        http1Legs.leg(for: request, mayReuse: reusing) { [weak self, weak exchange, http1Legs] result in
            guard let self, let exchange, self.exchanges[exchange.clientStream] === exchange, !exchange.flowEnded else {
                if case .success(let leg) = result { http1Legs.discard(leg) }
                return
            }
            switch result {
            case .success(let leg): self.startHTTP1(exchange, on: leg)
            case .failure(let failure): self.failExchange(exchange, failure.error, status: failure.status)
            }
            self.pump()
        }
    }

    private func startHTTP1(_ exchange: HTTP2StreamExchange, on leg: any HTTPClientLeg) {
        context.record(.upstreamConnected(flow: exchange.flow, server: leg.serverAddress, tls: leg.tls,
                                          reused: leg.reused, time: eventTime))
        let hostHeader = route.isReverse ? route.target.authority : nil
        let head: HTTPRequestHead
        if let webSocket = exchange.webSocket {
            head = webSocket.http1UpgradeRequest(exchange.requestFields, hostHeader: hostHeader, forwardedFor: forwardedFor)
        } else {
            head = HTTP2HeadTranslator.http1Request(exchange.requestFields, hostHeader: hostHeader,
                                                    forwardedFor: forwardedFor)
        }
        let hasBody = !exchange.requestEnded || !exchange.pendingRequestBody.isEmpty
        leg.delegate = exchange
        if pausedForRecorder { leg.pauseReading(.captureBackedUp) }
        exchange.leg = .http1(leg)
        leg.sendHead(.http1(head), endStream: !hasBody)
        for chunk in exchange.pendingRequestBody {
            leg.sendBody(chunk[...])
        }
        exchange.pendingRequestBody = []
        if exchange.requestEnded { leg.sendEnd(trailers: exchange.requestTrailers) }
        http1UpstreamWritable(exchange)
        armResponseTimer(exchange)
    }

    /// The leg of `exchange` failed. A request that went over a pooled HTTP/1.1
    /// connection the server closed as we reused it (RFC 9112 §9.3.1) goes once more,
    /// on a new connection, when `StaleConnectionRetryRule` allows it; anything else
    /// fails the exchange (an HTTP/2 stream is never resent: a GOAWAY says which
    /// streams the upstream left unprocessed, and those are refused to the client).
    func legFailed(_ exchange: HTTP2StreamExchange, error: FlowError) {
        // A resend goes over a fresh connection, on which the rule never allows another.
        if case .http1(let leg) = exchange.leg, !exchange.flowEnded,
           StaleConnectionRetryRule.allowsResend(method: exchange.method, requestHasBody: exchange.requestBodyBytes > 0,
                                                 requestComplete: exchange.requestEnded, overReusedConnection: leg.reused,
                                                 responseStarted: leg.responseStarted, alreadyResent: false) {
            exchange.responseDeadline = nil
            http1Legs.discard(leg)
            exchange.leg = .none
            connectHTTP1(exchange, reusing: false)
            return
        }
        upstreamLost(exchange, error: error)
    }

    /// The response of an HTTP/1.1 leg is over: it goes back to `http1Legs`, which keeps
    /// it when it can carry another request, else closes it.
    private func releaseHTTP1(_ leg: any HTTPClientLeg) {
        http1Legs.release(leg)
    }

    func http1UpstreamWritable(_ exchange: HTTP2StreamExchange) {
        guard case .http1(let leg) = exchange.leg, leg.isWritable else { return }
        creditClient(exchange, exchange.clientUnconsumed)
        pump()
    }

    // MARK: Responses

    /// An event of the HTTP/2 upstream stream whose leg relays it to the WebSocket tunnel.
    func tunnelStreamEvent(_ event: HTTP2Event, for exchange: HTTP2StreamExchange) {
        _ = exchange.webSocket?.upstreamStreamEvent(event, context: context, flow: exchange.flow, time: eventTime)
    }

    /// The session framed `count` request body bytes onto the exchange's HTTP/2 upstream
    /// stream: the client gets that credit back.
    func requestBodyFramed(_ count: Int, for exchange: HTTP2StreamExchange) {
        creditClient(exchange, count)
    }

    /// The exchange's HTTP/2 upstream stream ended otherwise than with its response. A
    /// reset reaches the client's stream with the upstream's code (INTERNAL_ERROR for
    /// NO_ERROR) after what was relayed before it; NO_ERROR after a complete response
    /// while the client still uploads is RFC 9113 §8.1's "send no more" (Go servers send
    /// it when a handler leaves the body unread): the exchange is over, and the client is
    /// asked to stop too, after the response. A stream a GOAWAY refused is refused to the
    /// client (it may retry); any other close before the response ended is a 502, or a
    /// reset once a head was sent.
    func upstreamStreamEnded(_ end: HTTP2StreamEnd, for exchange: HTTP2StreamExchange) {
        let id = exchange.clientStream
        switch end {
        case .resetByUpstream(let code):
            context.record(.http2StreamReset(flow: exchange.flow, fromClient: false, errorCode: code.rawValue, time: eventTime))
            guard !exchange.responseComplete else {
                if code == .noError && !exchange.requestEnded {
                    endFlow(exchange, error: nil)
                    session.stopPeerAfterOurEnd(stream: id)
                }
                return
            }
            abandonUpstream(exchange, code: .cancel)
            endFlow(exchange, error: FlowError(.upstreamAborted, "\(route.target.hostPort) reset the stream with \(code)"))
            session.resetAfterQueuedData(stream: id, code: code == .noError ? .internalError : code)
        case .closed(let code):
            guard !exchange.responseComplete, !exchange.flowEnded else { return }
            abandonUpstream(exchange, code: .cancel)
            let message = code == .refusedStream
                ? "\(route.target.hostPort) refused the stream (GOAWAY or REFUSED_STREAM)"
                : "\(route.target.hostPort) closed the stream with \(code) before the response was complete"
            if exchange.responseHeadSent || code == .refusedStream {
                endFlow(exchange, error: FlowError(.upstreamAborted, message))
                session.resetAfterQueuedData(stream: id, code: code == .noError ? .internalError : code)
            } else {
                failExchange(exchange, FlowError(.upstreamAborted, message), status: 502)
            }
        }
    }

    /// The upstream switched to WebSocket: the client gets `clientFields` (`:status 200`),
    /// and a relay takes both sides and the flow over. `fromUpstream`: bytes already read after the switch.
    /// `upstreamStream`: the HTTP/2 upstream's stream that `upstream` is, nil for an HTTP/1.1 socket.
    private func startWebSocketRelay(_ exchange: HTTP2StreamExchange, clientFields: HTTPHeaders, upstream: any ByteStream,
                                     fromUpstream: [UInt8], tap: WebSocketTap, upstreamStream: HTTP2TunnelStream? = nil) {
        guard let webSocket = exchange.webSocket else { return }
        sendResponseHead(clientFields, endStream: false, for: exchange)
        guard exchange.responseHeadSent else {
            upstream.close()
            return
        }
        exchange.flowEnded = true // the relay records the flow's end from now on
        webSocket.startRelay(context: context, info: info, flow: exchange.flow, timings: exchange.timings,
                             upstream: upstream, upstreamStream: upstreamStream, fromUpstream: fromUpstream, tap: tap)
    }

    private func sendResponseHead(_ fields: HTTPHeaders, endStream: Bool, for exchange: HTTP2StreamExchange) {
        guard !exchange.flowEnded else { return }
        do {
            try session.submitResponse(stream: exchange.clientStream, headers: fields, endStream: endStream)
            exchange.responseHeadSent = true
        } catch {
            endFlow(exchange, error: FlowError(.clientAborted, "cannot answer the client's stream: \(error)"))
            abandonUpstream(exchange, code: .cancel)
        }
    }

    /// A response head (interim or final) from the exchange's leg: recorded as received
    /// and sent on to the client stream. An HTTP/2 upstream's block goes through as is
    /// (ending the client's stream when it ended the upstream's); an HTTP/1.1 head is
    /// translated with the framing its parser decided and, for a bodiless response, the
    /// Content-Length it stated. A WebSocket's accepting answer starts its relay instead.
    func legResponseHead(_ response: LegResponseHead, for exchange: HTTP2StreamExchange) {
        if let fields = response.http2Fields {
            http2ResponseHead(response.received, fields: fields, endsStream: response.endsStream, for: exchange)
            return
        }
        let head = response.received
        firstResponseByte(exchange)
        if exchange.webSocket != nil, !head.isInterim, head.status == 101 || (200..<300).contains(head.status) {
            switchHTTP1ToWebSocket(exchange, response: head)
            return
        }
        context.record(.responseHead(flow: exchange.flow, head: head, time: eventTime))
        var forwarded = head
        // One content-length of the decided (or, bodiless, stated) value: `5, 5` or two
        // content-length fields make an HTTP/2 response malformed (RFC 9113 §8.1.1).
        forwarded.headers = response.framing != .none ? HTTP1HeadRewriter.framed(head.headers, response.framing)
            : HTTP1HeadRewriter.bodilessResponseFields(head.headers, statedContentLength: response.statedContentLength)
        let fields = HTTP2HeadTranslator.http2Response(forwarded)
        if head.isInterim {
            try? session.submitInformational(stream: exchange.clientStream, headers: fields)
            return
        }
        sendResponseHead(fields, endStream: response.framing == .none, for: exchange)
    }

    /// A head from an HTTP/2 upstream stream (its leg reports the end that follows a head
    /// which ended the stream). A 2xx to an extended CONNECT that keeps the stream open
    /// makes the stream the WebSocket's upstream side.
    /// `head` is the block as the capture records it (`HTTP2HeadTranslator.capturedResponse`).
    func http2ResponseHead(_ head: HTTPResponseHead, fields: HTTPHeaders, endsStream: Bool,
                           for exchange: HTTP2StreamExchange) {
        context.record(.responseHead(flow: exchange.flow, head: head, time: eventTime))
        if head.isInterim {
            try? session.submitInformational(stream: exchange.clientStream, headers: fields)
            return
        }
        if let webSocket = exchange.webSocket, case .http2(let leg) = exchange.leg,
           (200..<300).contains(head.status), !endsStream {
            // The leg stays the exchange's: `abandonUpstream` resets the stream if the client goes.
            leg.relayStream(to: exchange)
            let upstreamStream = webSocket.makeUpstreamStream(on: leg.connection, stream: leg.stream)
            startWebSocketRelay(exchange, clientFields: fields, upstream: upstreamStream, fromUpstream: [],
                                tap: WebSocketTap(handshakeResponse: head), upstreamStream: upstreamStream)
            return
        }
        sendResponseHead(fields, endStream: endsStream, for: exchange)
    }

    /// The HTTP/1.1 upstream answered the tunnel's Upgrade: a valid 101 starts the relay
    /// (the 101 is what the capture records); anything else in 1xx/2xx is a 502.
    private func switchHTTP1ToWebSocket(_ exchange: HTTP2StreamExchange, response: HTTPResponseHead) {
        guard case .http1(let leg) = exchange.leg else { return }
        let clientFields: HTTPHeaders
        do throws(ExtendedConnectError) {
            clientFields = try ExtendedConnectTranslator.http2Response(toUpgrade: response, key: exchange.webSocket?.upgradeKey ?? "")
        } catch {
            failExchange(exchange, FlowError(.badResponse, "\(route.target.hostPort): \(error)"), status: 502)
            return
        }
        context.record(.responseHead(flow: exchange.flow, head: response, time: eventTime))
        guard let (stream, fromUpstream) = leg.takeOver() else { return }
        http1Legs.discard(leg) // it let go of its transport: only forgotten
        exchange.leg = .none
        startWebSocketRelay(exchange, clientFields: clientFields, upstream: stream,
                            fromUpstream: fromUpstream, tap: WebSocketTap(handshakeResponse: response))
    }

    /// Response body bytes from the exchange's leg toward the client. An HTTP/1.1 leg is
    /// paused (`.clientSlow`) while the stream has `HTTPClientBufferLimits.http2StreamSendQueue`
    /// queued, until `dataSent` brings it below; an HTTP/2 stream is held back by its
    /// window, credited as the client takes the bytes (`responseDelivered`).
    func legResponseBody(_ bytes: [UInt8], for exchange: HTTP2StreamExchange) {
        exchange.responseBodyBytes += UInt64(bytes.count)
        context.recordBody(flow: exchange.flow, isRequest: false, bytes: bytes[...], time: eventTime)
        session.send(data: bytes, stream: exchange.clientStream)
        if case .http1(let leg) = exchange.leg, queuedToClient(exchange) >= HTTPClientBufferLimits.http2StreamSendQueue {
            leg.pauseReading(.clientSlow)
        }
    }

    func legResponseEnd(trailers: HTTPHeaders?, for exchange: HTTP2StreamExchange) {
        responseEnded(exchange, trailers: trailers)
        if case .http1(let leg) = exchange.leg {
            // A leg kept for reuse is another stream's next: this exchange lets go of it.
            if leg.poolable { exchange.leg = .none }
            releaseHTTP1(leg)
        }
    }

    private func responseEnded(_ exchange: HTTP2StreamExchange, trailers: HTTPHeaders?) {
        guard !exchange.responseComplete, !exchange.flowEnded else { return }
        exchange.responseComplete = true
        exchange.responseDeadline = nil
        context.record(.responseEnd(flow: exchange.flow, trailers: trailers, bodyBytes: exchange.responseBodyBytes,
                                    time: eventTime))
        session.finish(stream: exchange.clientStream, trailers: HTTP2HeadTranslator.http2Trailers(trailers))
        if let webSocket = exchange.webSocket {
            // The upgrade was refused: the flow is over even if the client keeps its side open.
            endFlow(exchange, error: nil)
            webSocket.upstreamRefused()
        }
    }

    func firstResponseByte(_ exchange: HTTP2StreamExchange) {
        exchange.responseDeadline = nil
        if exchange.timings.value.firstResponseByte == nil { exchange.timings.value.firstResponseByte = eventTime }
    }

    /// The exchange's upstream failed (connection lost, bad response).
    func upstreamLost(_ exchange: HTTP2StreamExchange, error: FlowError) {
        if let webSocket = exchange.webSocket, webSocket.upstreamLost(error) { return }
        guard !exchange.flowEnded, !exchange.responseComplete else { return }
        failExchange(exchange, error, status: 502)
        pump()
    }

    /// Ends the flow with `error`; the client gets `status` and the message when no
    /// response head was sent yet, else its stream is reset.
    private func failExchange(_ exchange: HTTP2StreamExchange, _ error: FlowError, status: Int) {
        guard !exchange.flowEnded else { return }
        let answerWithStatus = !exchange.responseHeadSent
        endFlow(exchange, error: error)
        abandonUpstream(exchange, code: .cancel)
        if answerWithStatus {
            let body = Array("Tapline: \(error.message)\n".utf8)
            let fields = HTTPHeaders([(":status", String(status)), ("content-type", "text/plain; charset=utf-8"),
                                      ("content-length", String(body.count)), ("x-tapline-error", "1")])
            // A response to HEAD has no content (RFC 9110 §9.3.2): its head says how long
            // the message would be, and the stream ends with it.
            let headRequest = exchange.method == "HEAD"
            do {
                try session.submitResponse(stream: exchange.clientStream, headers: fields, endStream: headRequest)
                if !headRequest {
                    session.send(data: body, stream: exchange.clientStream)
                    session.finish(stream: exchange.clientStream)
                }
                // A client still uploading is not reset with NO_ERROR (RFC 9113 §8.1 allows
                // it): curl 7.88 then drops the answer and fails with "Stream error in the
                // HTTP/2 framing layer". Its remaining DATA is consumed and discarded instead.
                return
            } catch {}
        }
        session.reset(stream: exchange.clientStream, code: .internalError)
    }

    /// Records `flowEnded` once; the exchange stays registered until its client stream closes.
    private func endFlow(_ exchange: HTTP2StreamExchange, error: FlowError?) {
        guard !exchange.flowEnded else { return }
        exchange.flowEnded = true
        exchange.responseDeadline = nil
        let now = eventTime
        exchange.timings.value.done = now
        context.record(.flowEnded(flow: exchange.flow, timings: exchange.timings.value,
                                  bytesFromClient: exchange.requestBodyBytes, bytesFromServer: exchange.responseBodyBytes,
                                  error: error, time: now))
    }

    /// Starts `exchange`'s response timeout (its upstream stream or request was just sent).
    private func armResponseTimer(_ exchange: HTTP2StreamExchange) {
        deadlines.armResponseDeadline(for: exchange)
    }

    // MARK: HTTP2UpstreamConnectionOwner

    func upstreamConnectionNeedsPump(_ connection: HTTP2UpstreamConnection) {
        pumpAfterUpstreamInput()
    }

    func upstreamConnection(_ connection: HTTP2UpstreamConnection, received event: HTTP2Event) {
        recordConnectionEvent(event, fromClient: false)
        switch event {
        case .settings where !waitingForSettings.isEmpty:
            let waiting = waitingForSettings
            waitingForSettings = []
            for exchange in waiting where !exchange.flowEnded { assignUpstream(exchange) }
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
        if upstream === connection {
            upstream = nil
            streamLegs.removeAll()
        }
        let waiting = waitingForSettings
        waitingForSettings = []
        for exchange in waiting where !exchange.flowEnded { assignUpstream(exchange) }
        pump()
    }

    // MARK: HTTP2ConnectionDeadlinesOwner

    /// 504 for every stream whose upstream is late (unless it already answered).
    func responseDeadlinesPassed() {
        let late = deadlines.takeExpiredResponseDeadlines(among: exchanges.values)
        let timeout = context.configuration.timeouts.response
        for exchange in late {
            guard !exchange.flowEnded, !exchange.responseHeadSent else { continue }
            failExchange(exchange, FlowError(.upstreamTimeout,
                "\(route.target.hostPort) sent no response within \(TimeoutText.seconds(timeout))"), status: 504)
        }
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
    /// (a leg made meanwhile starts paused, see `startHTTP1`).
    private func checkRecorder() {
        guard !pausedForRecorder, context.recorderIsBackedUp else { return }
        pausedForRecorder = true
        client.pauseReading()
        upstream?.pauseReading()
        exchanges.forEachValue { exchange in
            if case .http1(let leg) = exchange.leg { leg.pauseReading(.captureBackedUp) }
        }
        context.whenRecorderDrained { [weak self] in
            guard let self else { return }
            self.pausedForRecorder = false
            self.client.resumeReading()
            self.upstream?.resumeReading()
            self.exchanges.forEachValue { exchange in
                if case .http1(let leg) = exchange.leg { leg.resumeReading(.captureBackedUp) }
            }
        }
    }

    func beginShutdown() {
        let goAway = goAways.beginShutdown()
        http1Legs.closeAll()
        session.goAway(code: goAway.code, debugData: goAway.debugData)
        pump()
        if exchanges.isEmpty, !clientClosed {
            clientClosed = true
            client.closeAfterFlush()
        }
    }

    func abort() {
        for exchange in exchanges.values { exchange.webSocket?.abort() }
        for exchange in exchanges.values where !exchange.flowEnded {
            endFlow(exchange, error: FlowError(.shutdown, "Tapline was shut down while the stream was in flight"))
            abandonUpstream(exchange, code: .cancel)
        }
        upstream?.close()
        http1Legs.closeAll()
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
            endFlow(exchange, error: cutError)
            abandonUpstream(exchange, code: .cancel)
        }
        exchanges.removeAll()
        waitingForUpstream = []
        http1Legs.closeAll()
        upstream?.close()
        upstream = nil
        streamLegs.removeAll()
        // nghttp2 may have ended the session over the client's violation without failing
        // `receive` (a server session learns it when its GOAWAY is framed): `failure` says why.
        let reason = closeReason ?? session.failure?.description
        let reported: (any Error)? = error ?? reason.map { HTTP2ConnectionFailure(message: $0) }
        context.clientConnectionClosed(info, connection: client.transport, error: reported)
    }
}
