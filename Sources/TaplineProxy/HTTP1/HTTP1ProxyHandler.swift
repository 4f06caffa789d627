import TaplineFlow
import TaplineHTTP2
import TaplineHTTPClient
import TaplineNet
import TaplineWire

/// Proxies HTTP/1.1 for one client connection: parses requests, opens (or
/// reuses) the upstream connection, streams bodies both ways, and records each
/// exchange as a flow.
///
/// How it works: both parsers are pulled (`pumpClient`, `pumpUpstream`) only
/// while the receiving side is writable, so a slow reader stops the pumping;
/// unparsed bytes then pile up in the parser until `maxBufferedInput`, and
/// above that the sending socket is no longer read. Pipelined requests wait in
/// the client parser until the exchange before them is finished.
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
final class HTTP1ProxyHandler: ClientHandler, ByteStreamDelegate {
    private let context: ProxyContext
    private let client: any ByteStream
    private let info: ClientConnectionInfo
    private let route: HTTP1Route
    private var parser: HTTP1RequestParser
    private var upstreamParser: HTTP1ResponseParser
    private var exchange: HTTP1Exchange?
    /// The upstream connection of the exchange in flight, or an idle one kept for reuse.
    private var upstream: UpstreamConnection?
    private var upstreamReusable = true
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
    private var upstreamReadPaused = false
    private var pausedForRecorder = false
    /// The one timeout running at any time, and what it is for: idle (no exchange),
    /// header (a request head is arriving, or the connection's first one is due),
    /// response (waiting for the upstream's first byte).
    private lazy var deadline = DeadlineTimer(loop: context.loop) { [weak self] in self?.deadlineExpired() }
    private var deadlineKind = DeadlineKind.idle
    private enum DeadlineKind { case idle, header, response }

    /// Input buffered in a parser beyond which its socket is not read.
    private lazy var maxBufferedInput = BufferLimits.http1ParserInput(for: context.configuration.limits)

    init(context: ProxyContext, client: any ByteStream, info: ClientConnectionInfo, route: HTTP1Route,
         upstream: UpstreamConnection? = nil, upstreamFailure: UpstreamFailure? = nil,
         preconnectTimings: FlowTimings? = nil) {
        self.context = context
        self.client = client
        self.info = info
        self.route = route
        self.parser = HTTP1RequestParser(limits: context.configuration.limits)
        self.upstreamParser = HTTP1ResponseParser(limits: context.configuration.limits)
        self.upstream = upstream
        self.upstreamFailure = upstreamFailure
        self.preconnectTimings = preconnectTimings
        client.delegate = self
        upstream?.stream.delegate = self
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
                guard let upstream, upstream.stream.isWritable else { break }
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
            if let upstream {
                sendHead(of: exchange, over: upstream, reused: false)
                return
            }
        }
        if let failure = upstreamFailure {
            failExchange(failure.error, status: failure.status)
            return
        }
        if let upstream, upstream.target == target, upstreamReusable {
            sendHead(of: exchange, over: upstream, reused: true)
            return
        }
        openUpstream(for: exchange, target: target)
    }

    /// Connects a new upstream for `exchange` and sends its head there.
    private func openUpstream(for exchange: HTTP1Exchange, target: UpstreamTarget) {
        dropUpstream()
        // Reverse mode offers h2 too and speaks it through HTTP1OverHTTP2Stream when the upstream picks it.
        let isReverse: Bool = { if case .reverse = route { return true } else { return false } }()
        let alpn = target.scheme != .https ? [] : isReverse ? ["h2", "http/1.1"] : ["http/1.1"]
        context.connector.connect(to: target, alpn: alpn, timings: exchange.timings) { [weak self] result in
            guard let self, self.exchange === exchange, !self.clientClosed else {
                if case .success(let connection) = result { connection.stream.close() }
                return
            }
            switch result {
            case .success(let connected):
                let connection = HTTP1OverHTTP2Stream.adapt(
                    connected, priorKnowledge: isReverse && self.context.configuration.reverseUpstreamHTTP2,
                    limits: self.context.configuration.limits)
                self.upstream = connection
                self.upstreamReusable = true
                connection.stream.delegate = self
                self.sendHead(of: exchange, over: connection, reused: false)
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

    private func sendHead(of exchange: HTTP1Exchange, over upstream: UpstreamConnection, reused: Bool) {
        upstreamParser = HTTP1ResponseParser(limits: context.configuration.limits)
        upstreamParser.expectResponse(toMethod: exchange.request.method)
        upstreamReadPaused = false
        upstream.stream.resumeReading()
        exchange.sentOverReusedConnection = reused
        context.record(.upstreamConnected(flow: exchange.flow, server: upstream.serverAddress, tls: upstream.tls,
                                          reused: reused, time: .now()))
        upstream.stream.write(HTTP1Serializer.requestHead(exchange.upstreamRequest))
        exchange.upstreamReady = true
        arm(.response)
        pumpClient()
    }

    private func forwardRequestBody(_ bytes: ArraySlice<UInt8>) {
        guard let exchange, let upstream else { return }
        exchange.requestBodyBytes += UInt64(bytes.count)
        if exchange.timings.value.firstResponseByte == nil { arm(.response) }
        if exchange.requestFraming == .chunked {
            upstream.stream.write(HTTP1Serializer.chunk(bytes))
        } else {
            upstream.stream.write(bytes)
        }
        context.recordBody(flow: exchange.flow, isRequest: true, bytes: bytes)
    }

    private func endRequest(trailers: HTTPHeaders?) {
        guard let exchange, let upstream else { return }
        if exchange.requestFraming == .chunked {
            upstream.stream.write(HTTP1Serializer.lastChunk(trailers: HTTP1HeadRewriter.forwardableTrailers(trailers)))
        }
        exchange.requestComplete = true
        let now = Timestamp.now()
        exchange.timings.value.requestSent = now
        context.record(.requestEnd(flow: exchange.flow, trailers: trailers, bodyBytes: exchange.requestBodyBytes, time: now))
        if exchange.responseComplete { finishExchange(exchange) }
    }

    // MARK: Upstream side

    private func receiveFromUpstream(_ bytes: ArraySlice<UInt8>) {
        guard let exchange else {
            // An idle keep-alive connection has nothing to say: drop it.
            dropUpstream()
            return
        }
        if exchange.timings.value.firstResponseByte == nil {
            exchange.timings.value.firstResponseByte = .now()
            deadline.disarm()
        }
        upstreamParser.append(bytes)
        pumpUpstream()
        checkRecorder()
    }

    /// Pulls response events while the client can take them.
    private func pumpUpstream() {
        while let exchange, !clientClosed, client.isWritable {
            let event: HTTP1ResponseEvent?
            do {
                event = try upstreamParser.nextEvent()
            } catch {
                upstreamReusable = false
                failExchange(FlowError(.badResponse, "\(exchange.target.hostPort) sent an invalid response: \(error)"),
                             status: 502)
                return
            }
            guard let event else { break }
            switch event {
            case .head(let head):
                // From an HTTP/2 upstream the parser sees our HTTP/1.1 translation;
                // the capture keeps the head as the upstream sent it.
                let received = (upstream?.stream as? HTTP1OverHTTP2Stream)?.takeReceivedHead() ?? head
                context.record(.responseHead(flow: exchange.flow, head: received, time: .now()))
                if head.isInterim {
                    exchange.inInterimResponse = true
                    if exchange.request.version != .http1_0 {
                        var interim = head
                        interim.headers = HTTP1HeadRewriter.removeHopByHop(head.headers, keepUpgrade: false)
                        interim.version = .http1_1
                        client.write(HTTP1Serializer.responseHead(interim))
                    }
                } else if head.status == 101, exchange.isUpgradeRequest {
                    switchProtocols(exchange, response: head)
                    return
                } else {
                    sendResponseHead(head, of: exchange)
                }
            case .body(let bytes):
                exchange.responseBodyBytes += UInt64(bytes.count)
                if exchange.clientFraming == .chunked {
                    client.write(HTTP1Serializer.chunk(bytes))
                } else {
                    client.write(bytes)
                }
                context.recordBody(flow: exchange.flow, isRequest: false, bytes: bytes)
            case .end(let trailers):
                if exchange.inInterimResponse {
                    exchange.inInterimResponse = false
                    continue
                }
                if exchange.clientFraming == .chunked {
                    client.write(HTTP1Serializer.lastChunk(trailers: HTTP1HeadRewriter.forwardableTrailers(trailers)))
                }
                exchange.responseComplete = true
                context.record(.responseEnd(flow: exchange.flow, trailers: trailers,
                                            bodyBytes: exchange.responseBodyBytes, time: .now()))
                if exchange.requestComplete {
                    finishExchange(exchange)
                } else {
                    // The upstream answered before the request was complete (e.g. 413):
                    // the rest of the request is unread, so this connection cannot be reused.
                    closeAfterExchange = true
                    finishExchange(exchange)
                }
            }
        }
        updateReadInterest()
    }

    private func sendResponseHead(_ head: HTTPResponseHead, of exchange: HTTP1Exchange) {
        let framing = HTTP1BodyFraming(upstreamParser.messageFraming)
        exchange.responseFraming = framing
        var clientFraming = framing
        if exchange.clientWantsClose || shuttingDown || !exchange.requestComplete { closeAfterExchange = true }
        if framing == .untilClose { closeAfterExchange = true }
        if framing == .chunked, exchange.request.version == .http1_0 {
            clientFraming = .untilClose
            closeAfterExchange = true
        }
        exchange.clientFraming = clientFraming
        if !HTTP1BodyFraming.allowsReuse(after: head, framing: framing) { upstreamReusable = false }
        exchange.finalResponse = head
        let clientHead = HTTP1HeadRewriter.clientResponse(
            head, framing: framing, clientFraming: clientFraming,
            statedContentLength: upstreamParser.statedContentLength, closeAfter: closeAfterExchange,
            clientVersion: exchange.request.version, isUpgrade: false)
        client.write(HTTP1Serializer.responseHead(clientHead))
    }

    /// 101 Switching Protocols: from here on both connections are relayed byte for byte
    /// (a WebSocket upgrade through a `WebSocketRelay`, which also records its messages).
    private func switchProtocols(_ exchange: HTTP1Exchange, response: HTTPResponseHead) {
        guard let upstream else { return }
        exchange.finalResponse = response
        let clientHead = HTTP1HeadRewriter.clientResponse(
            response, framing: .none, clientFraming: .none, closeAfter: false,
            clientVersion: exchange.request.version, isUpgrade: true)
        client.write(HTTP1Serializer.responseHead(clientHead))
        let fromClient = parser.takeUnparsedBytes()
        let fromUpstream = upstreamParser.takeUnparsedBytes()
        cancelTimers()
        // The relay takes over both connections: a recorder wait of this handler's
        // (`checkRecorder`, after this returns) must not pause a client it no longer owns.
        clientClosed = true
        self.exchange = nil
        self.upstream = nil
        if WebSocketHandshake.isUpgradeRequest(exchange.request), WebSocketHandshake.isUpgradeResponse(response) {
            let relay = WebSocketRelay(context: context, info: info, flow: exchange.flow, timings: exchange.timings,
                                       client: client, upstream: upstream.stream,
                                       tap: WebSocketTap(handshakeResponse: response))
            context.register(relay, for: client.transport)
            relay.start(fromClient: fromClient, fromUpstream: fromUpstream)
            return
        }
        let relay = TunnelRelay(context: context, info: info, flow: exchange.flow, timings: exchange.timings,
                                client: client, upstream: upstream.stream)
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
        if !upstreamReusable || !exchange.requestComplete { dropUpstream() }
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
        dropUpstream()
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

    private func dropUpstream() {
        guard let upstream else { return }
        self.upstream = nil
        upstream.stream.delegate = nil
        upstream.stream.close()
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
        if let upstream {
            let pauseUpstream = pausedForRecorder || upstreamParser.bufferedByteCount > maxBufferedInput
            if pauseUpstream != upstreamReadPaused {
                upstreamReadPaused = pauseUpstream
                if pauseUpstream { upstream.stream.pauseReading() } else { upstream.stream.resumeReading() }
            }
        }
    }

    private func checkRecorder() {
        guard !pausedForRecorder, context.recorderIsBackedUp else { return }
        pausedForRecorder = true
        updateReadInterest()
        context.whenRecorderDrained { [weak self] in
            guard let self else { return }
            self.pausedForRecorder = false
            self.updateReadInterest()
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
        if stream === client {
            receiveFromClient(bytes)
        } else if stream === upstream?.stream {
            receiveFromUpstream(bytes)
        }
    }

    func streamDidReadEOF(_ stream: any ByteStream) {
        if stream === client {
            clientSentEOF()
        } else if stream === upstream?.stream {
            upstreamSentEOF()
        }
    }

    /// Reading the client is paused (its parser is full, or the recorder is backed up)
    /// and bytes before the FIN may be unread: pipelined requests, usually, which
    /// decide how the FIN is taken. After a complete request the socket is read to the
    /// EOF at once (`readingClientToEOF`), which judges it (`clientSentEOF`); nothing is
    /// recorded meanwhile, as the exchange in flight takes no more request events. A FIN
    /// inside the request in flight waits to be read as EOF when the pause ends.
    func streamPeerHungUpWhilePaused(_ stream: any ByteStream) {
        guard stream === client, let exchange, exchange.requestComplete else { return }
        readingClientToEOF = true
        updateReadInterest()
    }

    func stream(_ stream: any ByteStream, writabilityChanged isWritable: Bool) {
        guard isWritable else { return }
        if stream === client {
            pumpUpstream()
        } else if stream === upstream?.stream {
            pumpClient()
        }
    }

    func stream(_ stream: any ByteStream, didCloseWith error: (any Error)?) {
        if stream === client {
            clientDidClose(error)
        } else if stream === upstream?.stream {
            upstreamDidClose(error)
        }
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
        dropUpstream()
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
        dropUpstream()
    }

    private func upstreamSentEOF() {
        upstreamReusable = false
        guard let exchange else {
            dropUpstream()
            return
        }
        do {
            try upstreamParser.finish()
        } catch {
            upstreamLost(exchange, nil)
            return
        }
        pumpUpstream()
        if let current = self.exchange, current === exchange, !exchange.responseComplete,
           !upstreamParser.isReadingUntilClose {
            upstreamLost(exchange, nil)
        }
    }

    private func upstreamDidClose(_ error: (any Error)?) {
        upstreamReusable = false
        guard let exchange, !exchange.responseComplete else {
            upstream = nil
            return
        }
        try? upstreamParser.finish()
        pumpUpstream()
        if self.exchange === exchange {
            upstreamLost(exchange, error)
        }
        upstream = nil
    }

    private func upstreamLost(_ exchange: HTTP1Exchange, _ error: (any Error)?) {
        if exchange.mayRetryOnFreshConnection {
            // A kept-alive connection the server closed just as we reused it (RFC 9112 §9.3.1):
            // the request had no body and got no answer, so send it once more on a new connection.
            exchange.retried = true
            exchange.upstreamReady = false
            openUpstream(for: exchange, target: exchange.target)
            return
        }
        if let stated = error as? FlowError {
            // An HTTP/2 upstream stream says itself what went wrong (a reset, a refused head).
            failExchange(stated, status: 502)
            return
        }
        let reason = error.map { " (\($0))" } ?? ""
        let message = exchange.responseHeadSent
            ? "\(exchange.target.hostPort) closed the connection in the middle of the response body\(reason)"
            : "\(exchange.target.hostPort) closed the connection without sending a response\(reason)"
        failExchange(FlowError(.upstreamAborted, message), status: 502)
    }
}
