import TaplineFlow
import TaplineHTTP2
import TaplineHTTPClient
import TaplineNet
import TaplineWire

/// Proxies HTTP/1.1 for one client connection: parses requests, opens (or
/// reuses) the upstream connection, streams bodies both ways, and records each
/// exchange as a flow.
///
/// How it works: the client's parser is pulled (`pumpClient`) only while the
/// upstream leg is writable; unparsed bytes then pile up in the parser until
/// `maxBufferedInput`, and above that the client is no longer read. The upstream
/// side is an `HTTPClientLeg` (HTTP/1.1, or HTTP/2 when a reverse-mode upstream
/// picks it), whose response events this handler forwards; it pauses the leg
/// with `.clientSlow` while the client's socket is full and `.captureBackedUp`
/// while the recorder is. Pipelined requests wait in the client parser until the
/// exchange before them is finished.
///
/// A client's FIN (read EOF, or `streamPeerHungUpWhilePaused` while its socket is
/// not read) during an exchange is judged by the last request the client sent whole
/// and would be answered (`lastAnsweredRequestWantsClose`): the request in flight, or
/// the last complete one pipelined behind it (no further than the first that says
/// `Connection: close`). If that request said it was the connection's last
/// (`Connection: close`, or HTTP/1.0 without keep-alive), every complete request is
/// answered in order and the connection closes after that one: the client may shut
/// down its sending side and still read the responses (RFC 9112 §9.6). Otherwise the
/// client meant to keep the connection and closed it, so it has left (a browser
/// closing an EventSource, a killed curl): the exchange in flight ends as
/// `client-aborted`, its upstream is closed at once and nothing buffered behind it is
/// served. A request cut by the FIN (no complete one at all) is `client-aborted` too.
/// TCP cannot tell a half-close from a close; nginx, mitmproxy and Envoy take every
/// FIN as an abort.
///
/// Thread ownership: confined to `context.loop`. Retention: the loop's
/// `ProxyContext` registry owns this handler until the client connection closes
/// or is handed to another handler (CONNECT, 101 Switching Protocols).
final class HTTP1ProxyHandler: ClientHandler, ByteStreamDelegate, HTTPClientLegDelegate {
    private let context: ProxyContext
    private let client: any ByteStream
    private let info: ClientConnectionInfo
    private let route: HTTP1Route
    private var parser: HTTP1RequestParser
    private var exchange: HTTP1Exchange?
    /// The upstream of the exchange in flight, or one kept for the next request (`poolable`).
    private var leg: (any HTTPClientLeg)?
    /// Set inside an intercepted tunnel whose upstream could not be reached: every request gets this error.
    private var upstreamFailure: UpstreamFailure?
    /// Connect timings of an upstream opened before the first request (TLS interception
    /// connects upstream before finishing the client handshake); given to the first exchange.
    private var preconnectTimings: FlowTimings?
    private var closeAfterExchange = false
    private var shuttingDown = false
    /// No more requests are read from the client: it closed, was refused, or was handed to another handler.
    private var clientClosed = false
    private var clientReadPaused = false
    /// The client's FIN was seen while its socket was paused with requests buffered
    /// behind the exchange: the socket is read to its EOF (every byte before a FIN is
    /// already in the kernel's receive buffer, so this is bounded by it), whatever the
    /// parser holds, so that the FIN is judged by the last request the client sent.
    private var readingClientToEOF = false
    private var pausedForRecorder = false
    /// The one timeout running at any time, and what it is for: idle (no exchange),
    /// header (a request head is arriving, or the connection's first one is due),
    /// response (waiting for the upstream's first byte).
    private lazy var deadline = DeadlineTimer(loop: context.loop) { [weak self] in self?.deadlineExpired() }
    private var deadlineKind = DeadlineKind.idle
    private enum DeadlineKind { case idle, header, response }

    /// Input buffered in the client's parser beyond which its socket is not read.
    private lazy var maxBufferedInput = BufferLimits.http1ParserInput(for: context.configuration.limits)

    init(context: ProxyContext, client: any ByteStream, info: ClientConnectionInfo, route: HTTP1Route,
         upstream: UpstreamConnection? = nil, upstreamFailure: UpstreamFailure? = nil,
         preconnectTimings: FlowTimings? = nil) {
        self.context = context
        self.client = client
        self.info = info
        self.route = route
        self.parser = HTTP1RequestParser(limits: context.configuration.limits)
        self.upstreamFailure = upstreamFailure
        self.preconnectTimings = preconnectTimings
        client.delegate = self
        if let upstream {
            adopt(HTTP1ClientLeg(upstream: upstream, reused: false, limits: context.configuration.limits))
        }
    }

    /// Starts serving, with bytes already read from the client (after CONNECT or a TLS handshake).
    /// The first request's head is due within `headerTimeLeft` milliseconds (what is left of
    /// a header timeout that started before, at accept), else the header timeout from now,
    /// whether or not a byte of it has arrived: a connection that never sends one is closed
    /// then, not after the idle timeout (between requests of a kept-alive connection it is
    /// the idle one).
    func start(initialBytes: [UInt8] = [], headerTimeLeft: Int? = nil) {
        arm(.header, milliseconds: headerTimeLeft)
        if !initialBytes.isEmpty {
            receiveFromClient(initialBytes[...])
        }
    }

    // MARK: Client side

    private func receiveFromClient(_ bytes: ArraySlice<UInt8>) {
        parser.append(bytes)
        if exchange == nil, deadlineKind != .header { arm(.header) }
        pumpClient()
        checkRecorder()
    }

    /// Pulls request events while the exchange can take them.
    private func pumpClient() {
        while !clientClosed {
            if let exchange {
                if exchange.requestComplete || !exchange.upstreamReady { break }
                guard let leg, leg.isWritable else { break }
            } else if shuttingDown {
                break
            }
            let event: HTTP1RequestEvent?
            do {
                event = try parser.nextEvent()
            } catch {
                rejectRequest(error)
                return
            }
            guard let event else { break }
            switch event {
            case .head(let head): startExchange(head)
            case .body(let bytes): forwardRequestBody(bytes)
            case .end(let trailers): endRequest(trailers: trailers)
            }
        }
        updateReadInterest()
    }

    private func startExchange(_ head: HTTPRequestHead) {
        deadline.disarm()
        if head.method == "CONNECT" {
            startConnect(head)
            return
        }
        if case .reverse(let target) = route, upgradeToHTTP2(head, target: target) { return }
        guard let (target, originForm, hostHeader, forwarded) = resolve(head) else { return }
        let isUpgrade = HTTP1Exchange.isUpgrade(head)
        // The forwarded framing is the parser's decision, never the received framing fields.
        let framing = HTTP1BodyFraming(parser.messageFraming)
        let upstreamHead = HTTP1HeadRewriter.upstreamRequest(
            head, framing: framing, originForm: originForm, hostHeader: hostHeader, forwardedFor: forwarded,
            isUpgrade: isUpgrade)
        let flow = context.nextFlowID()
        let exchange = HTTP1Exchange(flow: flow, request: head, requestFraming: framing, target: target,
                                     upstreamRequest: upstreamHead)
        self.exchange = exchange
        let now = Timestamp.now()
        exchange.timings.value.requestStart = now
        context.record(.flowStarted(flow: flow, connection: info.id, kind: .http, scheme: target.scheme.rawValue,
                                    authority: target.authority, time: now))
        context.record(.requestHead(flow: flow, head: head, time: now))

        if let preconnect = preconnectTimings {
            preconnectTimings = nil
            exchange.timings.value.adoptConnectionSetup(from: preconnect)
            if let failure = upstreamFailure {
                failExchange(failure.error, status: failure.status)
                return
            }
            if let leg {
                sendHead(of: exchange, over: leg)
                return
            }
        }
        if let failure = upstreamFailure {
            failExchange(failure.error, status: failure.status)
            return
        }
        if let leg, leg.poolable, leg.upstream.target == target {
            sendHead(of: exchange, over: leg)
            return
        }
        openUpstream(for: exchange, target: target)
    }

    /// Connects a new upstream for `exchange` and sends its head there.
    private func openUpstream(for exchange: HTTP1Exchange, target: UpstreamTarget) {
        dropLeg()
        // Reverse mode offers h2 too and speaks it through an HTTP2ClientLeg when the upstream picks it.
        let isReverse: Bool = { if case .reverse = route { return true } else { return false } }()
        let alpn = target.scheme != .https ? [] : isReverse ? ["h2", "http/1.1"] : ["http/1.1"]
        context.connector.connect(to: target, alpn: alpn, timings: exchange.timings) { [weak self] result in
            guard let self, self.exchange === exchange, !self.clientClosed else {
                if case .success(let connection) = result { connection.stream.close() }
                return
            }
            switch result {
            case .success(let connected):
                let speaksHTTP2 = connected.tls?.alpn == "h2"
                    || (isReverse && self.context.configuration.reverseUpstreamHTTP2)
                let leg = self.makeLeg(on: connected, http2: speaksHTTP2)
                self.adopt(leg)
                self.sendHead(of: exchange, over: leg)
            case .failure(let failure):
                self.failExchange(failure.error, status: failure.status)
            }
        }
    }

    /// Works out the upstream, the request-target to send, and the Host and
    /// X-Forwarded-* to set; answers the client itself when the request cannot be routed.
    private func resolve(_ head: HTTPRequestHead)
        -> (UpstreamTarget, String, String?, (clientIP: String, scheme: String)?)? {
        switch route {
        case .forward:
            guard let (target, originForm) = HTTP1HeadRewriter.splitAbsoluteForm(head.target) else {
                rejectRouting(head, status: 400, message:
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
        }
    }

    /// The leg for a new connection: HTTP/2 when the upstream speaks it (ALPN h2, or
    /// prior knowledge), else HTTP/1.1 (also when no HTTP/2 session can be allocated:
    /// HTTP/1.1 then fails visibly on it).
    private func makeLeg(on connection: UpstreamConnection, http2: Bool) -> any HTTPClientLeg {
        if http2, let leg = try? HTTP2ClientLeg.open(upstream: connection) { return leg }
        return HTTP1ClientLeg(upstream: connection, reused: false, limits: context.configuration.limits)
    }

    /// Makes `leg` this handler's upstream, paused for whatever holds reading now.
    private func adopt(_ leg: any HTTPClientLeg) {
        leg.delegate = self
        if pausedForRecorder { leg.pauseReading(.captureBackedUp) }
        if !client.isWritable { leg.pauseReading(.clientSlow) }
        self.leg = leg
    }

    private func sendHead(of exchange: HTTP1Exchange, over leg: any HTTPClientLeg) {
        exchange.sentOverReusedConnection = leg.reused
        context.record(.upstreamConnected(flow: exchange.flow, server: leg.upstream.serverAddress, tls: leg.upstream.tls,
                                          reused: leg.reused, time: .now()))
        leg.sendHead(.http1(exchange.upstreamRequest), endStream: !exchange.requestFraming.hasBody)
        // The leg may have failed at once (an HTTP/2 connection that takes no more streams).
        guard self.exchange === exchange, self.leg === leg else { return }
        exchange.upstreamReady = true
        arm(.response)
        pumpClient()
    }

    private func forwardRequestBody(_ bytes: ArraySlice<UInt8>) {
        guard let exchange, let leg else { return }
        exchange.requestBodyBytes += UInt64(bytes.count)
        if exchange.timings.value.firstResponseByte == nil { arm(.response) }
        leg.sendBody(bytes)
        context.recordBody(flow: exchange.flow, isRequest: true, bytes: bytes)
    }

    private func endRequest(trailers: HTTPHeaders?) {
        guard let exchange, let leg else { return }
        leg.sendEnd(trailers: trailers)
        exchange.requestComplete = true
        let now = Timestamp.now()
        exchange.timings.value.requestSent = now
        context.record(.requestEnd(flow: exchange.flow, trailers: trailers, bodyBytes: exchange.requestBodyBytes, time: now))
        if exchange.responseComplete { finishExchange(exchange) }
    }

    // MARK: Upstream side (HTTPClientLegDelegate)

    func legResponseStarted(_ leg: any HTTPClientLeg) {
        guard let exchange, exchange.timings.value.firstResponseByte == nil else { return }
        exchange.timings.value.firstResponseByte = .now()
        deadline.disarm()
    }

    func leg(_ leg: any HTTPClientLeg, receivedHead response: LegResponseHead) {
        guard let exchange, !clientClosed else { return }
        context.record(.responseHead(flow: exchange.flow, head: response.received, time: .now()))
        // An HTTP/2 head becomes the HTTP/1.1 head it stands for; the capture keeps it as received.
        let head = response.received.version == .http2
            ? HTTP2HeadTranslator.http1Response(response.received.headers, framing: response.framing)
            : response.received
        if head.isInterim {
            if exchange.request.version != .http1_0 {
                var interim = head
                interim.headers = HTTP1HeadRewriter.removeHopByHop(head.headers, keepUpgrade: false)
                interim.version = .http1_1
                client.write(HTTP1Serializer.responseHead(interim))
            }
        } else if head.status == 101, exchange.isUpgradeRequest {
            switchProtocols(exchange, response: head)
        } else {
            sendResponseHead(head, response: response, of: exchange)
        }
    }

    func leg(_ leg: any HTTPClientLeg, receivedBody bytes: ArraySlice<UInt8>) {
        guard let exchange, !clientClosed else { return }
        exchange.responseBodyBytes += UInt64(bytes.count)
        if exchange.clientFraming == .chunked {
            client.write(HTTP1Serializer.chunk(bytes))
        } else {
            client.write(bytes)
        }
        leg.consumed(bytes.count)
        context.recordBody(flow: exchange.flow, isRequest: false, bytes: bytes)
    }

    func leg(_ leg: any HTTPClientLeg, receivedEnd trailers: HTTPHeaders?) {
        guard let exchange, !clientClosed else { return }
        if exchange.clientFraming == .chunked {
            client.write(HTTP1Serializer.lastChunk(trailers: HTTP1HeadRewriter.forwardableTrailers(trailers)))
        }
        exchange.responseComplete = true
        context.record(.responseEnd(flow: exchange.flow, trailers: trailers,
                                    bodyBytes: exchange.responseBodyBytes, time: .now()))
        if !exchange.requestComplete {
            // The upstream answered before the request was complete (e.g. 413):
            // the rest of the request is unread, so this connection cannot be reused.
            closeAfterExchange = true
        }
        finishExchange(exchange)
    }

    /// The response cannot be completed. A request that went over a kept-alive
    /// connection the server closed just as we reused it (RFC 9112 §9.3.1) is sent
    /// once more on a new connection when `StaleConnectionRetryRule` allows it.
    func leg(_ leg: any HTTPClientLeg, failed error: FlowError) {
        guard let exchange, leg === self.leg else { return }
        if exchange.mayRetryOnFreshConnection {
            exchange.retried = true
            exchange.upstreamReady = false
            openUpstream(for: exchange, target: exchange.target)
            return
        }
        failExchange(error, status: 502)
    }

    func legBecameWritable(_ leg: any HTTPClientLeg) {
        pumpClient()
    }

    func legFinishedInput(_ leg: any HTTPClientLeg) {
        checkRecorder()
    }

    private func sendResponseHead(_ head: HTTPResponseHead, response: LegResponseHead, of exchange: HTTP1Exchange) {
        let framing = response.framing
        exchange.responseFraming = framing
        var clientFraming = framing
        if exchange.clientWantsClose || shuttingDown || !exchange.requestComplete { closeAfterExchange = true }
        if framing == .untilClose { closeAfterExchange = true }
        if framing == .chunked, exchange.request.version == .http1_0 {
            clientFraming = .untilClose
            closeAfterExchange = true
        }
        exchange.clientFraming = clientFraming
        exchange.finalResponse = head
        let clientHead = HTTP1HeadRewriter.clientResponse(
            head, framing: framing, clientFraming: clientFraming,
            statedContentLength: response.statedContentLength, closeAfter: closeAfterExchange,
            clientVersion: exchange.request.version, isUpgrade: false)
        client.write(HTTP1Serializer.responseHead(clientHead))
    }

    /// 101 Switching Protocols: from here on both connections are relayed byte for byte
    /// (a WebSocket upgrade through a `WebSocketRelay`, which also records its messages).
    private func switchProtocols(_ exchange: HTTP1Exchange, response: HTTPResponseHead) {
        guard let (upstream, fromUpstream) = leg?.takeOver() else {
            failExchange(FlowError(.badResponse, "\(exchange.target.hostPort) switched protocols on a connection that cannot be handed over"),
                         status: 502)
            return
        }
        exchange.finalResponse = response
        let clientHead = HTTP1HeadRewriter.clientResponse(
            response, framing: .none, clientFraming: .none, closeAfter: false,
            clientVersion: exchange.request.version, isUpgrade: true)
        client.write(HTTP1Serializer.responseHead(clientHead))
        let fromClient = parser.takeUnparsedBytes()
        cancelTimers()
        // The relay takes over both connections: a recorder wait of this handler's
        // (`checkRecorder`, after this returns) must not pause a client it no longer owns.
        clientClosed = true
        self.exchange = nil
        self.leg = nil
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

    // MARK: Ending exchanges

    private func finishExchange(_ exchange: HTTP1Exchange) {
        let now = Timestamp.now()
        exchange.timings.value.done = now
        context.record(.flowEnded(flow: exchange.flow, timings: exchange.timings.value,
                                  bytesFromClient: exchange.requestBodyBytes, bytesFromServer: exchange.responseBodyBytes,
                                  error: nil, time: now))
        self.exchange = nil
        if leg?.poolable != true || !exchange.requestComplete { dropLeg() }
        // The parser stops after any request carrying Upgrade; the upstream did not switch.
        parser.resumeAfterDeclinedUpgrade()
        if closeAfterExchange || shuttingDown {
            client.closeAfterFlush()
            return
        }
        armIdleTimer()
        pumpClient()
    }

    /// Ends the exchange in flight with an error: the client gets `status` with
    /// the message when no response head was sent yet, else the connection is cut.
    private func failExchange(_ error: FlowError, status: Int) {
        guard let exchange else { return }
        deadline.disarm()
        let now = Timestamp.now()
        exchange.timings.value.done = now
        context.record(.flowEnded(flow: exchange.flow, timings: exchange.timings.value,
                                  bytesFromClient: exchange.requestBodyBytes, bytesFromServer: exchange.responseBodyBytes,
                                  error: error, time: now))
        self.exchange = nil
        dropLeg()
        if exchange.responseHeadSent {
            client.close()
        } else {
            client.write(HTTP1ErrorResponse.bytes(status: status, message: error.message,
                                                  headRequest: exchange.request.method == "HEAD"))
            client.closeAfterFlush()
        }
    }

    /// A request the parser refused: 400, a flow saying why, nothing (more) forwarded.
    private func rejectRequest(_ error: HTTP1ParseError) {
        let flowError = FlowError(.badRequest, error.description)
        if exchange != nil {
            failExchange(flowError, status: error.status)
            return
        }
        let flow = context.nextFlowID()
        let now = Timestamp.now()
        context.record(.flowStarted(flow: flow, connection: info.id, kind: .http, scheme: info.scheme,
                                    authority: "", time: now))
        var timings = FlowTimings()
        timings.done = now
        context.record(.flowEnded(flow: flow, timings: timings, bytesFromClient: 0, bytesFromServer: 0,
                                  error: flowError, time: now))
        client.write(HTTP1ErrorResponse.bytes(status: error.status, message: error.description))
        client.closeAfterFlush()
        clientClosed = true
    }

    /// A request that parsed but cannot be routed: a flow with its head, and the status.
    private func rejectRouting(_ head: HTTPRequestHead, status: Int, message: String) {
        let flow = context.nextFlowID()
        let now = Timestamp.now()
        context.record(.flowStarted(flow: flow, connection: info.id, kind: .http, scheme: info.scheme,
                                    authority: head.headers.first(name: "Host") ?? "", time: now))
        context.record(.requestHead(flow: flow, head: head, time: now))
        var timings = FlowTimings()
        timings.requestStart = now
        timings.done = now
        context.record(.flowEnded(flow: flow, timings: timings, bytesFromClient: 0, bytesFromServer: 0,
                                  error: FlowError(.badRequest, message), time: now))
        client.write(HTTP1ErrorResponse.bytes(status: status, message: message, headRequest: head.method == "HEAD"))
        client.closeAfterFlush()
        clientClosed = true
    }

    /// Lets go of the upstream: its connection is closed (an HTTP/2 stream reset).
    private func dropLeg() {
        guard let leg else { return }
        self.leg = nil
        leg.delegate = nil
        leg.cancel()
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
        cancelTimers()
        clientClosed = true // the HTTP/2 handler takes over the client
        client.write(Array("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n".utf8))
        let cleaned = HTTP1HeadRewriter.upstreamRequest(head, framing: .none, originForm: head.target, hostHeader: nil,
                                                        forwardedFor: nil, isUpgrade: false)
        let fields = HTTP2HeadTranslator.http2Request(cleaned, scheme: info.scheme, defaultAuthority: target.authority)
        let handler = HTTP2ProxyHandler(context: context, client: client, info: info,
                                        route: ReverseProtocolDetector.http2Route(context.configuration, target: target),
                                        session: session)
        context.register(handler, for: client.transport)
        handler.startUpgraded(request: fields, initialBytes: initial)
        return true
    }

    // MARK: CONNECT

    private func startConnect(_ head: HTTPRequestHead) {
        guard case .forward = route else {
            rejectRouting(head, status: 400, message: "CONNECT is only accepted in forward proxy mode")
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
            rejectRouting(head, status: 400, message: "CONNECT target \(head.target.debugDescription) is not host:port")
            return
        }
        let initial = parser.takeUnparsedBytes()
        cancelTimers()
        clientClosed = true // this handler is done with the client; the tunnel handler takes over
        client.write(Array("HTTP/1.1 200 Connection established\r\n\r\n".utf8))
        let tunnel = ConnectTunnelHandler(context: context, client: client, info: info, host: host, port: port,
                                          connectRequest: head)
        context.register(tunnel, for: client.transport)
        tunnel.start(initialBytes: initial)
    }

    // MARK: Flow control, timers, recorder

    private func updateReadInterest() {
        let pauseClient = !readingClientToEOF && (pausedForRecorder || parser.bufferedByteCount > maxBufferedInput)
        if pauseClient != clientReadPaused, !clientClosed {
            clientReadPaused = pauseClient
            if pauseClient { client.pauseReading() } else { client.resumeReading() }
        }
    }

    private func checkRecorder() {
        guard !pausedForRecorder, context.recorderIsBackedUp else { return }
        pausedForRecorder = true
        updateReadInterest()
        leg?.pauseReading(.captureBackedUp)
        context.whenRecorderDrained { [weak self] in
            guard let self else { return }
            self.pausedForRecorder = false
            self.updateReadInterest()
            self.leg?.resumeReading(.captureBackedUp)
        }
    }

    private func armIdleTimer() {
        arm(.idle)
    }

    /// Arms the deadline for `kind`, in `milliseconds` or else that kind's timeout.
    private func arm(_ kind: DeadlineKind, milliseconds: Int? = nil) {
        deadlineKind = kind
        let timeouts = context.configuration.timeouts
        switch kind {
        case .idle: deadline.arm(milliseconds: milliseconds ?? timeouts.idle)
        case .header: deadline.arm(milliseconds: milliseconds ?? timeouts.header)
        case .response: deadline.arm(milliseconds: milliseconds ?? timeouts.response)
        }
    }

    private func deadlineExpired() {
        guard !clientClosed else { return }
        let timeouts = context.configuration.timeouts
        switch deadlineKind {
        case .idle:
            if exchange == nil, parser.isIdle { client.close() }
        case .header:
            guard exchange == nil else { return }
            if parser.isIdle {
                // Not a byte of a request: nothing to answer (as nginx does); just hang up.
                client.close()
                return
            }
            client.write(HTTP1ErrorResponse.bytes(status: 408,
                message: "the request head was not complete within \(TimeoutText.seconds(timeouts.header))"))
            client.closeAfterFlush()
            clientClosed = true
        case .response:
            guard let exchange, exchange.timings.value.firstResponseByte == nil else { return }
            failExchange(FlowError(.upstreamTimeout,
                "\(exchange.target.hostPort) sent no response within \(TimeoutText.seconds(timeouts.response))"), status: 504)
        }
    }

    private func cancelTimers() {
        deadline.disarm()
    }

    // MARK: ClientHandler

    func beginShutdown() {
        shuttingDown = true
        if exchange == nil {
            client.close()
        } else {
            closeAfterExchange = true
        }
    }

    func abort() {
        if exchange != nil {
            failExchange(FlowError(.shutdown, "Tapline was shut down while the exchange was in flight"), status: 503)
        }
        client.close()
    }

    // MARK: ByteStreamDelegate

    func stream(_ stream: any ByteStream, didRead bytes: ArraySlice<UInt8>) {
        receiveFromClient(bytes)
    }

    func streamDidReadEOF(_ stream: any ByteStream) {
        clientSentEOF()
    }

    /// Reading the client is paused (its parser is full, or the recorder is backed up)
    /// and bytes before the FIN may be unread: pipelined requests, usually, which
    /// decide how the FIN is taken. After a complete request the socket is read to the
    /// EOF at once (`readingClientToEOF`), which judges it (`clientSentEOF`); nothing is
    /// recorded meanwhile, as the exchange in flight takes no more request events. A FIN
    /// inside the request in flight waits to be read as EOF when the pause ends.
    func streamPeerHungUpWhilePaused(_ stream: any ByteStream) {
        guard let exchange, exchange.requestComplete else { return }
        readingClientToEOF = true
        updateReadInterest()
    }

    /// The client's socket filled up (or drained): the leg stops (or resumes) delivering the response.
    func stream(_ stream: any ByteStream, writabilityChanged isWritable: Bool) {
        if isWritable { leg?.resumeReading(.clientSlow) } else { leg?.pauseReading(.clientSlow) }
    }

    func stream(_ stream: any ByteStream, didCloseWith error: (any Error)?) {
        clientDidClose(error)
    }

    /// Every byte the client will send is in the parser now: judges the FIN by the
    /// last request that would be answered (see the type's doc for the rule).
    private func clientSentEOF() {
        readingClientToEOF = false
        // A cut request behind complete ones shows up when the pull reaches it, which
        // the rule below never lets happen: it closes after the last complete request.
        try? parser.finish()
        guard let exchange else {
            client.close()
            return
        }
        guard let wantsClose = lastAnsweredRequestWantsClose() else {
            abortByClient(exchange, "the client closed the connection after \(exchange.requestBodyBytes) bytes of the request body")
            client.close()
            return
        }
        clientHungUp(during: exchange, lastRequestWantsClose: wantsClose)
    }

    /// Whether the last request the client sent whole, and that would be answered,
    /// said it was the connection's last: the request in flight, or the last complete
    /// request buffered behind it, stopping at the first that says `Connection: close`
    /// (nothing after it is served, RFC 9112 §9.6). Nil when the request in flight is
    /// not complete in what was received. Pulls a copy of the parser: the buffered
    /// requests are still served from the parser itself.
    private func lastAnsweredRequestWantsClose() -> Bool? {
        guard let exchange else { return nil }
        var lastComplete: HTTPRequestHead? = exchange.requestComplete ? exchange.request : nil
        var reading = exchange.request
        var probe = parser
        while lastComplete.map(HTTP1Exchange.wantsClose) != true, let event = try? probe.nextEvent() {
            switch event {
            case .head(let head): reading = head
            case .body: break
            case .end: lastComplete = reading
            }
        }
        return lastComplete.map(HTTP1Exchange.wantsClose)
    }

    /// The client's FIN arrived while `exchange` was in flight and its request was
    /// received whole; `lastRequestWantsClose` is the verdict of
    /// `lastAnsweredRequestWantsClose` (see the type's doc for the rule).
    private func clientHungUp(during exchange: HTTP1Exchange, lastRequestWantsClose: Bool) {
        guard !lastRequestWantsClose else {
            // The request that says so closes the connection after its response.
            if exchange.clientWantsClose { closeAfterExchange = true }
            return
        }
        abortByClient(exchange, exchange.responseHeadSent
            ? "the client closed the connection before the response was complete"
            : "the client closed the connection while waiting for the response")
        client.close()
    }

    private func clientDidClose(_ error: (any Error)?) {
        clientClosed = true
        cancelTimers()
        if let exchange {
            abortByClient(exchange, exchange.requestComplete
                ? "the client closed the connection before the response was complete"
                : "the client closed the connection after \(exchange.requestBodyBytes) bytes of the request body")
        }
        dropLeg()
        context.clientConnectionClosed(info, connection: client.transport, error: error)
    }

    private func abortByClient(_ exchange: HTTP1Exchange, _ message: String) {
        let now = Timestamp.now()
        exchange.timings.value.done = now
        deadline.disarm()
        context.record(.flowEnded(flow: exchange.flow, timings: exchange.timings.value,
                                  bytesFromClient: exchange.requestBodyBytes, bytesFromServer: exchange.responseBodyBytes,
                                  error: FlowError(.clientAborted, message), time: now))
        self.exchange = nil
        dropLeg()
    }
}
