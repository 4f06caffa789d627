import TaplineFlow
import TaplineHTTP2
import TaplineHTTPClient
import TaplineNet
import TaplineWire

/// Proxies HTTP/1.1 for one client connection: the I/O shell around an
/// `HTTP1ExchangeStateMachine`, which makes every decision about the exchanges
/// (errors and statuses, retries, 1xx, keep-alive, what is recorded and when,
/// deadlines, pauses). The shell parses client bytes and hears the upstream leg,
/// feeds each event to the machine, and carries out the actions it returns
/// (`perform`). CONNECT, the h2c upgrade and the 101 hand-over to a relay are the
/// shell's: they hand the connection to another handler.
///
/// How it works: the client's parser is pulled (`pumpClient`) only while the
/// machine takes request events and the upstream leg is writable; unparsed bytes
/// then pile up in the parser until `maxBufferedInput`, and above that the client is
/// no longer read. The upstream side is an `HTTPClientLeg` (HTTP/1.1, or HTTP/2 when
/// a reverse-mode upstream picks it) from the connection's `UpstreamLegSource`
/// (`PooledUpstreamLegSource` unless a test injects one), whose response events go
/// to the machine; a finished exchange gives its leg back to the source, which keeps
/// it for a later request to the same upstream when it may carry one (the pool is
/// this connection's: closed with it); the leg is paused `.clientSlow` while
/// the client's socket is full and `.captureBackedUp` while the recorder is.
/// Pipelined requests wait in the client parser until the exchange before them is
/// finished.
///
/// A client's FIN (read EOF, or `streamPeerHungUpWhilePaused` while its socket is
/// not read) during an exchange is judged by the last request the client sent whole
/// and would be answered (`HTTP1ExchangeStateMachine.lastAnsweredRequestWantsClose`):
/// the request in flight, or the last complete one pipelined behind it (no further
/// than the first that says `Connection: close`). If that request said it was the
/// connection's last (`Connection: close`, or HTTP/1.0 without keep-alive), every
/// complete request is answered in order and the connection closes after that one:
/// the client may shut down its sending side and still read the responses (RFC 9112
/// §9.6). Otherwise the client meant to keep the connection and closed it, so it has
/// left (a browser closing an EventSource, a killed curl): the exchange in flight
/// ends as `client-aborted`, its upstream is closed at once and nothing buffered
/// behind it is served. A request cut by the FIN (no complete one at all) is
/// `client-aborted` too. TCP cannot tell a half-close from a close; nginx, mitmproxy
/// and Envoy take every FIN as an abort.
///
/// Thread ownership: confined to `context.loop`. Retention: the loop's
/// `ProxyContext` registry owns this handler until the client connection closes
/// or is handed to another handler (CONNECT, 101 Switching Protocols).
final class HTTP1ProxyHandler: ClientHandler, ByteStreamDelegate, HTTPClientLegDelegate, HTTP1ExchangeActionSink {
    private let context: ProxyContext
    private let client: any ByteStream
    private let info: ClientConnectionInfo
    private let route: HTTP1Route
    private let clock: any ProxyClock
    private let legSource: any UpstreamLegSource
    /// What every leg of this connection is asked for (the route decides).
    private let offer: UpstreamProtocolOffer
    private var parser: HTTP1RequestParser
    private let machine: HTTP1ExchangeStateMachine
    /// The upstream of the exchange in flight (from `legSource`, which gets it back when
    /// the exchange is finished).
    private var leg: (any HTTPClientLeg)?
    /// A leg just delivered for an `openLeg`, while the machine's answer to it is carried out.
    private var openedLeg: (any HTTPClientLeg)?
    private var clientReadPaused = false
    /// The client's FIN was seen while its socket was paused with requests buffered
    /// behind the exchange: the socket is read to its EOF (every byte before a FIN is
    /// already in the kernel's receive buffer, so this is bounded by it), whatever the
    /// parser holds, so that the FIN is judged by the last request the client sent.
    private var readingClientToEOF = false
    /// The connection's one deadline; which kind it is, and what its expiry means, the machine knows.
    private lazy var deadline = DeadlineTimer(loop: context.loop) { [weak self] in self?.deadlineExpired() }

    /// Input buffered in the client's parser beyond which its socket is not read.
    private lazy var maxBufferedInput = HTTPClientBufferLimits.http1ParserInput(for: context.configuration.limits)

    /// `clock` and `legSource` are injected for tests; by default the wall clock and a
    /// `PooledUpstreamLegSource` on the loop's connector. `upstream`, connected before the
    /// first request (TLS interception connects upstream before finishing the client
    /// handshake), is parked in that source for the first request, which takes it as a
    /// new connection; an injected source is never given one.
    init(context: ProxyContext, client: any ByteStream, info: ClientConnectionInfo, route: HTTP1Route,
         upstream: UpstreamConnection? = nil, upstreamFailure: UpstreamFailure? = nil,
         preconnectTimings: FlowTimings? = nil, clock: any ProxyClock = WallClock(),
         legSource: (any UpstreamLegSource)? = nil) {
        precondition(upstream == nil || legSource == nil, "a pre-connected upstream goes to the default leg source")
        self.context = context
        self.client = client
        self.info = info
        self.route = route
        self.clock = clock
        let offer = UpstreamProtocolOffer.forHTTP1Client(route: route, configuration: context.configuration)
        self.offer = offer
        if let legSource {
            self.legSource = legSource
        } else {
            let pooled = PooledUpstreamLegSource(connector: context.connector, limits: context.configuration.limits,
                                                 idleMilliseconds: context.configuration.timeouts.idle)
            if let upstream {
                pooled.adopt(HTTP1ClientLeg(upstream: upstream, reused: false, limits: context.configuration.limits),
                             under: UpstreamPoolKey(target: upstream.target, offer: offer))
            }
            self.legSource = pooled
        }
        self.parser = HTTP1RequestParser(limits: context.configuration.limits)
        self.machine = HTTP1ExchangeStateMachine(
            connection: info.id, clientScheme: info.scheme, timeouts: context.configuration.timeouts,
            upstreamFailure: upstreamFailure, preconnectTimings: preconnectTimings,
            nextFlowID: { [context] in context.nextFlowID() })
        client.delegate = self
    }

    /// Starts serving, with bytes already read from the client (after CONNECT or a TLS handshake).
    /// The first request's head is due within `headerTimeLeft` milliseconds (what is left of
    /// a header timeout that started before, at accept), else the header timeout from now,
    /// whether or not a byte of it has arrived: a connection that never sends one is closed
    /// then, not after the idle timeout (between requests of a kept-alive connection it is
    /// the idle one).
    func start(initialBytes: [UInt8] = [], headerTimeLeft: Int? = nil) {
        machine.start(headerTimeLeft: headerTimeLeft, self)
        if !initialBytes.isEmpty {
            receiveFromClient(initialBytes[...])
        }
    }

    // MARK: Carrying out the machine's actions

    // MARK: HTTP1ExchangeActionSink

    /// Carries out one of the machine's actions. An action may feed the machine another
    /// event before the one that produced it is done (a pooled leg reported at once, a leg
    /// failing inside `sendHead`, a client write that fills its socket): the machine
    /// settles its state before each action, so that nested event sees it as it is.
    func perform(_ action: HTTP1ExchangeAction) {
        switch action {
        case .arm(_, let milliseconds):
            deadline.arm(milliseconds: milliseconds)
        case .disarm:
            deadline.disarm()
        case .openLeg(let exchange, let attempt, let reuseAllowed):
            openLeg(for: exchange, attempt: attempt, reuseAllowed: reuseAllowed)
        case .adoptOpenedLeg(let reasons):
            guard let opened = openedLeg.take() else { return }
            // A leg this handler released keeps it as its delegate while pooled: comparing
            // is cheaper than setting a weak reference (see docs/performance.md).
            if opened.delegate !== self { opened.delegate = self }
            if reasons.contains(.captureBackedUp) { opened.pauseReading(.captureBackedUp) }
            if reasons.contains(.clientSlow) { opened.pauseReading(.clientSlow) }
            leg = opened
        case .discardOpenedLeg:
            guard let opened = openedLeg else { return }
            openedLeg = nil
            legSource.discard(opened)
        case .sendHead(let head, let endStream):
            leg?.sendHead(head, endStream: endStream)
        case .sendBody(let bytes):
            leg?.sendBody(bytes)
        case .sendEnd(let trailers):
            leg?.sendEnd(trailers: trailers)
        case .cancelLeg:
            dropLeg()
        case .pauseLeg(let reason):
            leg?.pauseReading(reason)
        case .resumeLeg(let reason):
            leg?.resumeReading(reason)
        case .pullClient:
            pumpClient()
        case .updateClientReading:
            updateReadInterest()
        case .waitForCaptureDrain:
            context.whenRecorderDrained { [weak self] in
                guard let self else { return }
                self.machine.captureDrained(self)
            }
        case .sendInterimHead(let head), .sendResponseHead(let head):
            client.write(HTTP1Serializer.responseHead(head))
        case .writeResponseBody(let bytes, let chunked):
            if chunked {
                client.write(HTTP1Serializer.chunk(bytes))
            } else {
                client.write(bytes)
            }
            leg?.consumed(bytes.count)
        case .writeLastChunk(let trailers):
            client.write(HTTP1Serializer.lastChunk(trailers: trailers))
        case .switchProtocols(let exchange, let response, let clientHead):
            switchProtocols(exchange, response: response, clientHead: clientHead)
        case .finishExchange(let keepLeg):
            if keepLeg { releaseLeg() } else { dropLeg() }
            // The parser stops after any request carrying Upgrade; the upstream did not switch.
            parser.resumeAfterDeclinedUpgrade()
        case .answer(let status, let message, let headRequest):
            client.write(HTTP1ErrorResponse.bytes(status: status, message: message, headRequest: headRequest))
            client.closeAfterFlush()
        case .closeClient(let afterFlush):
            if afterFlush { client.closeAfterFlush() } else { client.close() }
        }
    }

    @inline(__always)
    func record(_ event: @autoclosure () -> FlowEvent) {
        context.record(event())
    }

    @inline(__always)
    func recordBody(_ flow: FlowID, isRequest: Bool, _ bytes: ArraySlice<UInt8>) {
        context.recordBody(flow: flow, isRequest: isRequest, bytes: bytes, time: clock.now())
    }

    // MARK: Client side

    private func receiveFromClient(_ bytes: ArraySlice<UInt8>) {
        parser.append(bytes)
        machine.clientBytesArrived(self)
        pumpClient()
        checkRecorder()
    }

    /// Pulls request events while the exchange can take them.
    private func pumpClient() {
        while machine.acceptsRequestEvents {
            if machine.hasExchange {
                guard let leg, leg.isWritable else { break }
            }
            let event: HTTP1RequestEvent?
            do {
                event = try parser.nextEvent()
            } catch {
                machine.requestUnparsable(error, now: clock.now(), self)
                return
            }
            guard let event else { break }
            switch event {
            case .head(let head): startExchange(head)
            case .body(let bytes): machine.requestBody(bytes, self)
            case .end(let trailers): machine.requestEnd(trailers: trailers, now: clock.now(), self)
            }
        }
        updateReadInterest()
    }

    private func startExchange(_ head: HTTPRequestHead) {
        if head.method == "CONNECT" {
            startConnect(head)
            return
        }
        if case .reverse(let target) = route, upgradeToHTTP2(head, target: target) { return }
        guard let (target, originForm, hostHeader, forwarded) = resolve(head) else { return }
        // The forwarded framing is the parser's decision, never the received framing fields.
        let framing = HTTP1BodyFraming(parser.messageFraming)
        let upstreamHead = HTTP1HeadRewriter.upstreamRequest(
            head, framing: framing, originForm: originForm, hostHeader: hostHeader, forwardedFor: forwarded,
            isUpgrade: HTTP1Exchange.isUpgrade(head))
        // Transparent: the client addressed the origin itself, so its Host names the flow.
        var flowAuthority: String?
        if case .transparent = route, let host = head.headers.first(name: "Host"), !host.isEmpty { flowAuthority = host }
        machine.requestHead(head, framing: framing, target: target, upstreamRequest: upstreamHead,
                            flowAuthority: flowAuthority, now: clock.now(), self)
    }

    /// Works out the upstream, the request-target to send, and the Host and
    /// X-Forwarded-* to set; refuses the request when it cannot be routed.
    private func resolve(_ head: HTTPRequestHead)
        -> (UpstreamTarget, String, String?, (clientIP: String, scheme: String)?)? {
        switch route {
        case .forward:
            guard let (target, originForm) = HTTP1HeadRewriter.splitAbsoluteForm(head.target) else {
                refuse(head, status: 400, message:
                    "Tapline is running as a forward proxy and got \(head.method) \(head.target); configure it as the client's HTTP proxy (curl -x http://\(client.transport.localAddress)) or start it with --reverse URL")
                return nil
            }
            // RFC 9112 §3.2.2: Host is replaced with the absolute-form target's authority.
            return (target, originForm, target.authority, nil)
        case .reverse(let target):
            let originForm = HTTP1HeadRewriter.splitAbsoluteForm(head.target)?.1 ?? head.target
            let forwarded = context.configuration.addForwardedHeaders ? (info.address.host, info.scheme) : nil
            return (target, originForm, target.authority, forwarded)
        case .intercepted(let target):
            let originForm = HTTP1HeadRewriter.splitAbsoluteForm(head.target)?.1 ?? head.target
            // RFC 9112 §3.2.2: Host is replaced with the absolute-form target's authority.
            return (target, originForm, target.authority, nil)
        case .transparent(let target):
            // The client addressed the origin itself: its Host stays (virtual hosts on one address).
            let originForm = HTTP1HeadRewriter.splitAbsoluteForm(head.target)?.1 ?? head.target
            return (target, originForm, nil, nil)
        }
    }

    private func refuse(_ head: HTTPRequestHead, status: Int, message: String) {
        machine.requestRefused(head, status: status, message: message, now: clock.now(), self)
    }

    private func rejectRequest(_ error: HTTP1ParseError) {
        machine.requestUnparsable(error, now: clock.now(), self)
    }

    /// Gets a leg for `exchange` from `legSource`: a ready (pooled) one when the machine
    /// allows reuse and one to the same upstream is idle, reported at once (the machine
    /// hears of it inside this action; no closure is made, this being every kept-alive
    /// request), else a new one. The machine hears of it as `legOpened`/`legFailedToOpen`;
    /// the leg is this handler's once it says `adoptOpenedLeg`. A new leg's completion
    /// holds the handler until it runs (at most the connect timeout): a leg that arrives
    /// after the client left goes to the machine all the same, which has it discarded
    /// (its attempt is over).
    private func openLeg(for exchange: HTTP1Exchange, attempt: UInt32, reuseAllowed: Bool) {
        dropLeg()
        let request = UpstreamLegRequest(target: exchange.target, offer: offer, timings: exchange.timings,
                                         head: .http1(exchange.request))
        if reuseAllowed, let leg = legSource.readyLeg(for: request) {
            legArrived(leg, attempt: attempt)
            return
        }
        legSource.openLeg(for: request) { [self] result in
            switch result {
            case .success(let leg):
                legArrived(leg, attempt: attempt)
            case .failure(let failure):
                machine.legFailedToOpen(attempt: attempt, failure, now: clock.now(), self)
            }
        }
    }

    private func legArrived(_ leg: any HTTPClientLeg, attempt: UInt32) {
        openedLeg = leg
        machine.legOpened(attempt: attempt, reused: leg.reused, server: leg.serverAddress, tls: leg.tls,
                          now: clock.now(), self)
    }

    /// Gives the upstream up: its connection is closed (an HTTP/2 stream reset).
    private func dropLeg() {
        guard let leg else { return }
        self.leg = nil
        legSource.discard(leg)
    }

    /// The exchange is over and the machine keeps the connection: the leg goes back to
    /// the source, which keeps it for a later request if it is `poolable`, else closes it.
    private func releaseLeg() {
        guard let leg else { return }
        self.leg = nil
        legSource.release(leg) // it may keep this handler as its delegate, to which an idle leg says nothing
    }

    // MARK: Upstream side (HTTPClientLegDelegate)

    func legResponseStarted(_ leg: any HTTPClientLeg) {
        machine.responseStarted(now: clock.now(), self)
    }

    func leg(_ leg: any HTTPClientLeg, receivedHead response: LegResponseHead) {
        machine.responseHead(response, now: clock.now(), self)
    }

    func leg(_ leg: any HTTPClientLeg, receivedBody bytes: ArraySlice<UInt8>) {
        machine.responseBody(bytes, self)
    }

    func leg(_ leg: any HTTPClientLeg, receivedEnd trailers: HTTPHeaders?) {
        machine.responseEnd(trailers: trailers, now: clock.now(), self)
    }

    func leg(_ leg: any HTTPClientLeg, failed error: FlowError) {
        guard leg === self.leg else { return }
        machine.legFailed(error, now: clock.now(), self)
    }

    func legBecameWritable(_ leg: any HTTPClientLeg) {
        pumpClient()
    }

    func legFinishedInput(_ leg: any HTTPClientLeg) {
        checkRecorder()
    }

    /// 101 Switching Protocols: from here on both connections are relayed byte for byte
    /// (a WebSocket upgrade through a `WebSocketRelay`, which also records its messages).
    private func switchProtocols(_ exchange: HTTP1Exchange, response: HTTPResponseHead, clientHead: HTTPResponseHead) {
        guard let leg, let (upstream, fromUpstream) = leg.takeOver() else {
            machine.protocolSwitchRefused(now: clock.now(), self)
            return
        }
        self.leg = nil
        legSource.discard(leg) // it let go of its transport: only forgotten
        client.write(HTTP1Serializer.responseHead(clientHead))
        let fromClient = parser.takeUnparsedBytes()
        // The relay takes over both connections: a recorder wait of this handler's
        // (`checkRecorder`, after this returns) must not pause a client it no longer owns.
        machine.clientHandedOver(self)
        legSource.closeAll()
        if WebSocketHandshake.isUpgradeRequest(exchange.request), WebSocketHandshake.isUpgradeResponse(response) {
            let relay = WebSocketRelay(context: context, info: info, flow: exchange.flow, timings: exchange.timings,
                                       client: client, upstream: upstream,
                                       tap: WebSocketTap(handshakeResponse: response))
            context.register(relay, for: client.transport)
            relay.start(fromClient: fromClient, fromUpstream: fromUpstream)
            return
        }
        let relay = TunnelRelay(context: context, info: info, flow: exchange.flow, timings: exchange.timings,
                                client: client, upstream: upstream)
        context.register(relay, for: client.transport)
        relay.start(fromClient: fromClient, fromUpstream: fromUpstream)
    }

    // MARK: Upgrade: h2c

    /// `Upgrade: h2c` (RFC 7540 §3.2) in reverse mode, for a request without a body:
    /// answers 101 and hands the connection to an `HTTP2ProxyHandler`, with this
    /// request as stream 1. Returns false (the request is proxied as HTTP/1.1,
    /// without the Upgrade) when the request does not qualify.
    private func upgradeToHTTP2(_ head: HTTPRequestHead, target: UpstreamTarget) -> Bool {
        guard HTTP1Exchange.isUpgrade(head), head.headers.tokens(name: "Upgrade").contains("h2c"),
              !HTTP1BodyFraming(parser.messageFraming).hasBody, let settings = head.headers.first(name: "HTTP2-Settings"),
              let session = try? HTTP2Session(upgradeWithSettingsHeader: settings, isHeadRequest: head.method == "HEAD")
        else { return false }
        do {
            while let event = try parser.nextEvent() {
                if case .end = event { break }
            }
        } catch {
            rejectRequest(error)
            return true
        }
        let initial = parser.takeUnparsedBytes()
        machine.clientHandedOver(self) // the HTTP/2 handler takes over the client
        legSource.closeAll()
        client.write(Array("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n".utf8))
        let cleaned = HTTP1HeadRewriter.upstreamRequest(head, framing: .none, originForm: head.target, hostHeader: nil,
                                                        forwardedFor: nil, isUpgrade: false)
        let fields = HTTP2HeadTranslator.http2Request(cleaned, scheme: info.scheme, defaultAuthority: target.authority)
        let handler = HTTP2ProxyHandler(context: context, client: client, info: info,
                                        route: ReverseProtocolDetector.http2Route(context, target: target),
                                        session: session)
        context.register(handler, for: client.transport)
        handler.startUpgraded(request: fields, initialBytes: initial)
        return true
    }

    // MARK: CONNECT

    private func startConnect(_ head: HTTPRequestHead) {
        guard case .forward = route else {
            refuse(head, status: 400, message: "CONNECT is only accepted in forward proxy mode")
            return
        }
        // The parser yields the CONNECT's `.end` next and then stops at the tunnel boundary.
        do {
            while let event = try parser.nextEvent() {
                if case .end = event { break }
            }
        } catch {
            rejectRequest(error)
            return
        }
        guard let (host, port) = UpstreamTarget.splitAuthority(head.target[...], defaultPort: 443),
              head.target.contains(":") else {
            refuse(head, status: 400, message: "CONNECT target \(head.target.debugDescription) is not host:port")
            return
        }
        let initial = parser.takeUnparsedBytes()
        machine.clientHandedOver(self) // the tunnel handler takes over the client
        legSource.closeAll()
        client.write(Array("HTTP/1.1 200 Connection established\r\n\r\n".utf8))
        let tunnel = ConnectTunnelHandler(context: context, client: client, info: info, host: host, port: port,
                                          entry: .connect(head))
        context.register(tunnel, for: client.transport)
        tunnel.start(initialBytes: initial)
    }

    // MARK: Flow control, timers, recorder

    @inline(__always)
    private func updateReadInterest() {
        let pauseClient = !readingClientToEOF
            && (machine.captureBackedUp || parser.bufferedByteCount > maxBufferedInput)
        if pauseClient != clientReadPaused, !machine.isClosed {
            clientReadPaused = pauseClient
            if pauseClient { client.pauseReading() } else { client.resumeReading() }
        }
    }

    private func checkRecorder() {
        guard !machine.captureBackedUp, context.recorderIsBackedUp else { return }
        machine.captureBackedUpReported(self)
    }

    private func deadlineExpired() {
        machine.deadlineFired(now: clock.now(), clientInputIdle: parser.isIdle, self)
    }

    // MARK: ClientHandler

    func beginShutdown() {
        machine.beginShutdown(self)
    }

    func abort() {
        machine.shutdownGraceExpired(now: clock.now(), self)
    }

    // MARK: ByteStreamDelegate

    func stream(_ stream: any ByteStream, didRead bytes: ArraySlice<UInt8>) {
        receiveFromClient(bytes)
    }

    /// Every byte the client will send is in the parser now: the machine judges the
    /// FIN by the last request that would be answered (see the type's doc for the rule).
    func streamDidReadEOF(_ stream: any ByteStream) {
        readingClientToEOF = false
        // A cut request behind complete ones shows up when the pull reaches it, which
        // the rule never lets happen: it closes after the last complete request.
        try? parser.finish()
        machine.clientSentEOF(pipelined: parser, now: clock.now(), self)
    }

    /// Reading the client is paused (its parser is full, or the recorder is backed up)
    /// and bytes before the FIN may be unread: pipelined requests, usually, which
    /// decide how the FIN is taken. After a complete request the socket is read to the
    /// EOF at once (`readingClientToEOF`), which judges it (`streamDidReadEOF`); nothing is
    /// recorded meanwhile, as the exchange in flight takes no more request events. A FIN
    /// inside the request in flight waits to be read as EOF when the pause ends.
    func streamPeerHungUpWhilePaused(_ stream: any ByteStream) {
        guard machine.requestInFlightIsComplete else { return }
        readingClientToEOF = true
        updateReadInterest()
    }

    /// The client's socket filled up (or drained): the leg stops (or resumes) delivering the response.
    func stream(_ stream: any ByteStream, writabilityChanged isWritable: Bool) {
        machine.clientWritabilityChanged(isWritable, self)
    }

    func stream(_ stream: any ByteStream, didCloseWith error: (any Error)?) {
        machine.clientClosed(now: clock.now(), self)
        dropLeg()
        legSource.closeAll()
        context.clientConnectionClosed(info, connection: client.transport, error: error)
    }
}
