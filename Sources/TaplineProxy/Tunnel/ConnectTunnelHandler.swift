import TaplineFlow
import TaplineHTTPClient
import TaplineNet
import TaplineTLS
import TaplineWire

/// Takes over a client connection once it is a tunnel to `host:port` — after
/// `CONNECT host:port` was answered with 200, a SOCKS5 CONNECT with
/// "succeeded" (`SOCKS5HandshakeHandler`), or the kernel redirected it to the
/// transparent listener from `host:port` (`TunnelEntry`) — and decides from the
/// client's first bytes what the tunnel carries:
/// - a TLS ClientHello: intercept. Connect to the upstream first (offering the
///   client's ALPN protocols that we can proxy), then finish the client's
///   handshake with a leaf for its SNI, selecting the ALPN the upstream chose,
///   and proxy HTTP inside. A client that rejects our certificate becomes a
///   `tls-failed` flow with the alert and a hint.
/// - plaintext HTTP/1: proxy it, addressed to the CONNECT target (Host rewritten
///   to it; a transparent connection keeps the client's Host).
/// - anything else (or a `--passthrough` host, a host whose client pins its
///   certificate per `context.autoPassthrough`, or a client that stays silent
///   because the server speaks first): relay raw bytes as a `tunnel` flow.
///
/// Pass-through rules name hosts: the CONNECT/SOCKS5 target's, or for a
/// transparent connection (whose target is an address) the ClientHello's SNI.
///
/// Thread ownership: confined to `context.loop`; retained by the context's
/// registry until it hands the connection to the next handler.
final class ConnectTunnelHandler: ClientHandler, ByteStreamDelegate {
    private let context: ProxyContext
    private let client: any ByteStream
    private var info: ClientConnectionInfo
    private let host: String
    private let port: Int
    private let entry: TunnelEntry
    /// The HTTP CONNECT request, recorded as the tunnel's request; nil for SOCKS5 and transparent.
    private var connectRequest: HTTPRequestHead? { entry.connectRequest }
    private var buffered: [UInt8] = []
    private var decided = false
    private var sniffTimer: LoopTimer?
    /// A flow already started for this tunnel (raw or tls-failed), ended if the client leaves.
    private var pendingFlow: (FlowID, FlowTimingsBox)?
    private var clientGone = false
    /// The client-side TLS stream while its handshake runs (after success the HTTP handler owns it).
    private var tlsStream: TLSStream?
    /// The client's TLS connection between its handshake and its first application bytes.
    private var established: EstablishedClientTLS?
    /// Hands `established` over with nothing read once the header timeout has passed.
    private var firstBytesTimer: LoopTimer?

    /// How long to wait for the client's first bytes before assuming a server-speaks-first protocol.
    private let sniffTimeoutMilliseconds = 2_000
    private let maxSniffBytes = BufferLimits.connectTunnelPending
    /// The host pass-through rules and `context.autoPassthrough` know this tunnel by:
    /// the target, until a transparent connection's ClientHello names its server.
    private var passthroughHost: String
    /// ALPN protocols Tapline can proxy inside an intercepted tunnel.
    private let supportedALPN = ["h2", "http/1.1"]

    init(context: ProxyContext, client: any ByteStream, info: ClientConnectionInfo, host: String, port: Int,
         entry: TunnelEntry) {
        self.context = context
        self.client = client
        self.info = info
        self.host = host
        self.port = port
        self.entry = entry
        self.passthroughHost = host
    }

    func start(initialBytes: [UInt8]) {
        client.delegate = self
        buffered = initialBytes
        if isPassedThrough(host) {
            openRawTunnel()
            return
        }
        sniffTimer = context.loop.scheduleTimer(milliseconds: sniffTimeoutMilliseconds) { [weak self] in
            guard let self, !self.decided else { return }
            self.openRawTunnel()
        }
        sniff()
    }

    private func sniff() {
        guard !decided else { return }
        switch TLSClientHelloSniffer.sniff(buffered) {
        case .needMoreData:
            if buffered.count > maxSniffBytes { openRawTunnel() }
        case .tlsClientHello(let serverName, let alpn):
            if case .transparent = entry, let serverName {
                passthroughHost = serverName
                if isPassedThrough(serverName) { return openRawTunnel() }
            }
            intercept(serverName: serverName, offeredALPN: alpn)
        case .http1:
            decide()
            let handler = HTTP1ProxyHandler(context: context, client: client, info: info,
                                            route: http1Route(UpstreamTarget(scheme: .http, host: host, port: port)))
            context.register(handler, for: client.transport)
            handler.start(initialBytes: buffered)
        case .http2Preface:
            // h2c with prior knowledge: the target is expected to speak it too.
            decide()
            guard let session = HTTP2ProxyHandler.makeSession() else { return client.close() }
            let route = HTTP2Route(target: UpstreamTarget(scheme: .http, host: host, port: port),
                                   upstreamProtocol: .http2PriorKnowledge, isReverse: false)
            let handler = HTTP2ProxyHandler(context: context, client: client, info: info, route: route, session: session)
            context.register(handler, for: client.transport)
            handler.start(initialBytes: buffered)
        case .other:
            openRawTunnel()
        }
    }

    /// HTTP/1 inside the tunnel goes to `target`; only a transparent client's Host is kept.
    private func http1Route(_ target: UpstreamTarget) -> HTTP1Route {
        if case .transparent = entry { return .transparent(target) }
        return .intercepted(target)
    }

    private func isPassedThrough(_ host: String) -> Bool {
        context.configuration.isPassthrough(host: host) || context.autoPassthrough?.isPassedThrough(host) == true
    }

    private func decide() {
        decided = true
        sniffTimer?.cancel()
        sniffTimer = nil
    }

    // MARK: TLS interception

    private func intercept(serverName: String?, offeredALPN: [String]) {
        decide()
        client.pauseReading()
        let target = UpstreamTarget(scheme: .https, host: host, port: port)
        let upstreamALPN = offeredALPN.filter { supportedALPN.contains($0) }
        let timings = FlowTimingsBox()
        context.connector.connect(to: target, alpn: upstreamALPN, serverName: serverName ?? host,
                                  timings: timings) { [weak self] result in
            guard let self else { return }
            guard !self.clientGone else {
                if case .success(let connection) = result { connection.stream.close() }
                return
            }
            switch result {
            case .success(let connection):
                // Nobody owns the upstream until the client handshake is done, and an h2 server
                // speaks first (SETTINGS): leave it unread until the handler resumes reading.
                // SETTINGS that came in the same read as a TLS 1.2 server's Finished are
                // already decrypted; the TLSStream holds them until then.
                connection.stream.pauseReading()
                let chosen = connection.tls?.alpn.flatMap { offeredALPN.contains($0) ? $0 : nil }
                self.handshakeWithClient(serverName: serverName, alpn: chosen, upstream: connection, failure: nil,
                                         timings: timings.value)
            case .failure(let failure):
                // Finish the client's handshake anyway so it can be told why in a 502.
                let fallback = offeredALPN.contains("http/1.1") ? "http/1.1" : offeredALPN.contains("h2") ? "h2" : nil
                self.handshakeWithClient(serverName: serverName, alpn: fallback, upstream: nil, failure: failure,
                                         timings: timings.value)
            }
        }
    }

    private func handshakeWithClient(serverName: String?, alpn: String?, upstream: UpstreamConnection?,
                                     failure: UpstreamFailure?, timings: FlowTimings) {
        let certificateHost = serverName ?? host
        let engine: TLSEngine
        do {
            let leaf = try context.certificateAuthority.leafCertificate(for: certificateHost)
            engine = try TLSEngine(server: TLSServerConfiguration(certificate: leaf, alpn: alpn))
        } catch {
            upstream?.stream.close()
            recordFailedTLS(FlowError(.clientTLS, "cannot mint a certificate for \(certificateHost): \(error)"))
            client.close()
            return
        }
        // TLS takes the client's socket over: only a stream straight over one has it to give.
        guard let socket = (client as? PlainStream)?.connection else {
            upstream?.stream.close()
            recordFailedTLS(FlowError(.clientTLS, "cannot intercept TLS: the client connection is not a plain socket"))
            client.close()
            return
        }
        let target = UpstreamTarget(scheme: .https, host: host, port: port)
        let tlsStream = TLSStream(connection: socket, engine: engine) { [weak self] result in
            guard let self else { return }
            switch result {
            case .success(let stream):
                self.info.scheme = "https"
                self.context.record(.connectionTLS(connection: self.info.id,
                                                   tls: TLSDetails(engine: engine, serverName: engine.serverName ?? serverName),
                                                   time: .now()))
                self.awaitFirstRequestBytes(EstablishedClientTLS(
                    stream: stream, certificateHost: certificateHost, isHTTP2: engine.negotiatedALPN == "h2",
                    target: target, upstream: upstream, upstreamFailure: failure, timings: timings,
                    establishedAt: Timestamp.now()))
            case .failure(let error):
                upstream?.stream.close()
                self.recordFailedTLS(FlowError(.clientTLS, Self.describeClientRejection(error, host: certificateHost)))
                self.count(.handshakeFailed(error))
            }
        }
        // Until the handshake succeeds this handler owns the stream and hears of the connection closing.
        tlsStream.delegate = self
        self.tlsStream = tlsStream
        client.resumeReading()
        tlsStream.start(initialCiphertext: buffered)
        buffered = []
    }

    /// Holds the client's established TLS connection until its first application
    /// bytes, so that a client that closes (or sends an alert) right after the
    /// handshake — a pinning client that checks its pins once the handshake is
    /// done — counts as refusing our certificate. The HTTP handler takes over at
    /// the first byte, or with nothing read once the header timeout has passed.
    ///
    /// An HTTP/2 (ALPN h2) connection is handed over at once instead: its upstream sends
    /// SETTINGS as soon as it is connected, which the HTTP/2 handler records as they arrive;
    /// held, they would be recorded after the client's first bytes, in an order that
    /// depends on timing. So a client that pins after an h2 handshake is not counted.
    private func awaitFirstRequestBytes(_ established: EstablishedClientTLS) {
        self.established = established
        guard !established.isHTTP2 else { return handOver(initialBytes: []) }
        firstBytesTimer = context.loop.scheduleTimer(milliseconds: context.configuration.timeouts.header) { [weak self] in
            self?.handOver(initialBytes: [])
        }
    }

    /// Gives the established TLS connection to the HTTP/2 or HTTP/1 handler.
    private func handOver(initialBytes: [UInt8]) {
        guard let established else { return }
        self.established = nil
        firstBytesTimer?.cancel()
        firstBytesTimer = nil
        if !initialBytes.isEmpty { count(.sentRequest) }
        let elapsed = Int((Timestamp.now().microseconds - established.establishedAt.microseconds) / 1_000)
        let headerTimeLeft = max(0, context.configuration.timeouts.header - elapsed)
        let stream = established.stream
        if established.isHTTP2, let session = HTTP2ProxyHandler.makeSession() {
            // ALPN mirrors the upstream: h2 toward the client means the upstream chose h2 too.
            let route = HTTP2Route(target: established.target, upstreamProtocol: .negotiated, isReverse: false)
            let handler = HTTP2ProxyHandler(context: context, client: stream, info: info, route: route,
                                            session: session, upstream: established.upstream,
                                            upstreamFailure: established.upstreamFailure,
                                            preconnectTimings: established.timings)
            context.register(handler, for: stream.transport)
            handler.start(initialBytes: initialBytes, headerTimeLeft: headerTimeLeft)
            return
        }
        let handler = HTTP1ProxyHandler(context: context, client: stream, info: info,
                                        route: http1Route(established.target), upstream: established.upstream,
                                        upstreamFailure: established.upstreamFailure,
                                        preconnectTimings: established.timings)
        context.register(handler, for: stream.transport)
        handler.start(initialBytes: initialBytes, headerTimeLeft: headerTimeLeft)
    }

    /// The client ended its established TLS connection without a byte of a request:
    /// recorded as a `tls-failed` flow and counted as refusing our certificate.
    private func clientClosedBeforeRequest() {
        guard let established else { return }
        self.established = nil
        firstBytesTimer?.cancel()
        firstBytesTimer = nil
        established.upstream?.stream.close()
        let host = established.certificateHost
        recordFailedTLS(FlowError(.clientTLS, "the client closed the connection right after the TLS handshake for \(host), without sending a request: it may pin its certificate (tunnel it untouched with --passthrough \(host))"))
        count(.closedBeforeRequest)
    }

    /// A one-line explanation of why a client refused our handshake, with what to do about it.
    static func describeClientRejection(_ error: TLSError, host: String) -> String {
        let base = "the client rejected the TLS handshake for \(host): \(error)"
        if case .handshakeFailed(_, let alert?) = error,
           InterceptedClientOutcome.certificateAlerts.contains(where: alert.lowercased().contains) {
            return base + ". The client does not trust Tapline's CA (install it: `tapline ca --path`) or pins its certificate (tunnel it untouched with --passthrough \(host))"
        }
        return base
    }

    /// Counts what the client did with our certificate toward switching `host` to pass-through.
    private func count(_ outcome: InterceptedClientOutcome) {
        guard let table = context.autoPassthrough, table.record(outcome, for: passthroughHost) else { return }
        context.warn("the client rejected Tapline's certificate for \(passthroughHost) \(table.threshold) times in a row (it pins its certificate or does not trust Tapline's CA): its connections to \(passthroughHost) are passed through untouched, not intercepted, for the rest of this run (--no-auto-passthrough turns this off)")
    }

    private func recordFailedTLS(_ error: FlowError) {
        let flow = context.nextFlowID()
        let now = Timestamp.now()
        context.record(.flowStarted(flow: flow, connection: info.id, kind: .tlsFailed, scheme: "https",
                                    authority: UpstreamTarget(scheme: .https, host: host, port: port).authority, time: now))
        if let connectRequest { context.record(.requestHead(flow: flow, head: connectRequest, time: now)) }
        var timings = FlowTimings()
        timings.requestStart = now
        timings.done = now
        context.record(.flowEnded(flow: flow, timings: timings, bytesFromClient: 0, bytesFromServer: 0,
                                  error: error, time: now))
    }

    // MARK: Raw tunnel

    private func openRawTunnel() {
        decide()
        let flow = context.nextFlowID()
        let timings = FlowTimingsBox()
        let now = Timestamp.now()
        timings.value.requestStart = now
        pendingFlow = (flow, timings)
        context.record(.flowStarted(flow: flow, connection: info.id, kind: .tunnel, scheme: "tcp",
                                    authority: UpstreamTarget(scheme: .http, host: host, port: port).hostPort, time: now))
        if let connectRequest { context.record(.requestHead(flow: flow, head: connectRequest, time: now)) }
        context.connector.connect(to: UpstreamTarget(scheme: .http, host: host, port: port),
                                  timings: timings) { [weak self] result in
            guard let self else { return }
            switch result {
            case .success(let connection):
                guard !self.clientGone else {
                    connection.stream.close()
                    return
                }
                self.pendingFlow = nil
                self.context.record(.upstreamConnected(flow: flow, server: connection.serverAddress, tls: nil,
                                                       reused: false, time: .now()))
                let relay = TunnelRelay(context: self.context, info: self.info, flow: flow, timings: timings,
                                        client: self.client, upstream: connection.stream)
                self.context.register(relay, for: self.client.transport)
                let pending = self.buffered
                self.buffered = []
                relay.start(fromClient: pending, fromUpstream: [])
            case .failure(let failure):
                self.endPendingFlow(failure.error)
                self.client.close()
            }
        }
    }

    private func endPendingFlow(_ error: FlowError) {
        guard let (flow, timings) = pendingFlow else { return }
        pendingFlow = nil
        let now = Timestamp.now()
        timings.value.done = now
        context.record(.flowEnded(flow: flow, timings: timings.value, bytesFromClient: 0, bytesFromServer: 0,
                                  error: error, time: now))
    }

    // MARK: ClientHandler

    func beginShutdown() {
        if !decided || established != nil { abort() }
    }

    func abort() {
        endPendingFlow(FlowError(.shutdown, "Tapline was shut down while the tunnel was being set up"))
        if let established {
            self.established = nil
            firstBytesTimer?.cancel()
            established.upstream?.stream.close()
            established.stream.close()
        }
        client.close()
    }

    // MARK: ByteStreamDelegate

    func stream(_ stream: any ByteStream, didRead bytes: ArraySlice<UInt8>) {
        if established != nil {
            if !bytes.isEmpty { handOver(initialBytes: Array(bytes)) }
            return
        }
        buffered.append(contentsOf: bytes)
        if decided {
            if buffered.count > maxSniffBytes { client.pauseReading() }
        } else {
            sniff()
        }
    }

    func streamDidReadEOF(_ stream: any ByteStream) {
        if let established {
            clientClosedBeforeRequest()
            established.stream.close()
            return
        }
        if !decided {
            decide()
            client.close()
        }
    }

    func stream(_ stream: any ByteStream, writabilityChanged isWritable: Bool) {}

    func stream(_ stream: any ByteStream, didCloseWith error: (any Error)?) {
        clientClosedBeforeRequest() // an alert or a reset after the handshake
        clientGone = true
        sniffTimer?.cancel()
        endPendingFlow(FlowError(.clientAborted, "the client closed the tunnel before it was open"))
        context.clientConnectionClosed(info, connection: client.transport, error: error)
    }
}
