import TaplineFlow
import TaplineHTTP2
import TaplineHTTPClient
import TaplineNet
import TaplineWire

/// Where the exchanges of one HTTP/2 client connection get their upstream legs: the
/// answer to a machine's `openLeg` (a plain request, an RFC 8441 extended CONNECT, or a
/// resend on a fresh connection), completed with the attempt the machine gave
/// (`legOpened` / `legFailedToOpen`), at once or when a connection is made.
///
/// It owns what choosing a leg needs to remember across the connection's streams:
/// - the shared `HTTP2UpstreamConnection` (`upstream`) and the `HTTP2StreamLegRecycler`
///   of its stream legs; an upstream that said GOAWAY (or closed) is replaced by a new
///   connection for later streams, whose stream legs are new too;
/// - the upstreams so replaced while streams were still in flight on them
///   (`drainingUpstreams`): RFC 9113 §6.8 lets those streams finish, so such a connection
///   stays open, opens no new stream, and is closed once its last stream is over;
/// - the exchanges waiting for that connection (`waitingForUpstream`), and the extended
///   CONNECTs waiting for its first SETTINGS (`waitingForSettings`): without
///   SETTINGS_ENABLE_CONNECT_PROTOCOL there, a WebSocket goes over HTTP/1.1 on a
///   connection of its own (GET + Upgrade);
/// - whether the https upstream answered ALPN with http/1.1 (`upstreamSpeaksHTTP1`):
///   then every later stream connects with HTTP/1.1 directly;
/// - the HTTP/1.1 `UpstreamLegSource`: the route's (a mock's recorded responses), else a
///   pool of real connections kept for the connection's later streams.
///
/// Why a type of its own, and not an `UpstreamLegSource`: a source answers with one leg
/// type through a closure, while an HTTP/2 client connection's legs are of two kinds
/// whose choice depends on the upstream's SETTINGS and ALPN, and whose per-stream path
/// (a stream leg on the shared connection) must stay a direct call with no closure or
/// existential per stream (docs/performance.md). The HTTP/1.1 legs do come from a source.
///
/// What stays the handler's: it is the upstream connection's owner
/// (`HTTP2UpstreamConnectionOwner`), so it records the upstream's SETTINGS and GOAWAY,
/// passes a GOAWAY to the client's schedule and tells this type (`upstreamSentSettings`,
/// `upstreamConnectionClosed`); and its single pump dispatches and flushes `upstream` (and
/// the draining upstreams, when there are any) in the same round as the client's session.
///
/// Thread ownership: confined to the handler's loop; owned by `HTTP2ProxyHandler`.
/// `handler` is unretained: the handler owns this object and outlives it (the same
/// invariant as `HTTP2StreamExchange`'s). Completions capture the handler weakly and
/// `self` unowned(unsafe): while the handler is there, so is this object, and nothing
/// references it weakly (a weak reference would put its reference counts in a side
/// table, and the handler's every retain of it on the slow path: docs/performance.md).
final class HTTP2ExchangeLegs {
    /// Opens a connection to an upstream: the target, the ALPN protocols to offer (TLS),
    /// where to stamp its setup, and the completion (on the loop).
    typealias Connect = (UpstreamTarget, [String], FlowTimingsBox,
                         @escaping (Result<UpstreamConnection, UpstreamFailure>) -> Void) -> Void

    private let route: HTTP2Route
    private let connector: UpstreamConnector
    private let limits: HTTP1Limits
    /// How long an idle pooled HTTP/1.1 connection is kept.
    private let idleMilliseconds: Int
    /// The client's address and scheme for the X-Forwarded-* headers (reverse mode with
    /// `addForwardedHeaders`), else nil.
    private let forwardedFor: (clientIP: String, scheme: String)?
    /// The handler that owns this object, unretained (see the thread ownership note
    /// above); set by `attach`, in the handler's init, before anything else is asked.
    private var owner: Unmanaged<HTTP2ProxyHandler>?
    private var handler: HTTP2ProxyHandler { owner!.takeUnretainedValue() }

    /// The shared HTTP/2 upstream connection, once connected (the handler's pump
    /// dispatches its events and flushes it).
    private(set) var upstream: HTTP2UpstreamConnection?
    /// Upstreams replaced (after their GOAWAY) while streams were in flight on them, oldest
    /// first. Invariant: each is open, is not `upstream`, opens no stream, and has a stream
    /// in flight until the pump's `flushDrainingUpstreams` closes it and lets it go. Almost
    /// always empty: the pump asks `hasDrainingUpstreams` before anything else about it.
    private(set) var drainingUpstreams: [HTTP2UpstreamConnection] = []
    /// Whether a replaced upstream is still finishing its streams (the pump's cheap test).
    var hasDrainingUpstreams: Bool { !drainingUpstreams.isEmpty }
    /// Stream legs whose streams are over, for the next exchanges (a leg of a draining
    /// upstream too: `leg(on:owner:)` moves it onto `upstream`).
    private var streamLegs = HTTP2StreamLegRecycler()
    /// Stream legs waiting for the next exchanges (a leg that is not recycled is made anew).
    var spareStreamLegCount: Int { streamLegs.spareCount }
    /// A connection for `waitingForUpstream` is being made.
    private var connecting = false
    private var waitingForUpstream: [HTTP2StreamExchange] = []
    /// Extended CONNECT streams waiting for the upstream's first SETTINGS (does it take them?).
    private var waitingForSettings: [HTTP2StreamExchange] = []
    /// The https upstream answered ALPN with http/1.1: later streams connect with HTTP/1.1 directly.
    private var upstreamSpeaksHTTP1 = false
    /// Where the streams' HTTP/1.1 legs come from and go back to: the route's source (a
    /// mock's recorded responses) when it has one, else `pooledHTTP1Legs`.
    private lazy var http1Legs: any UpstreamLegSource = route.legSource ?? pooledHTTP1Legs
    /// The pool of real HTTP/1.1 upstream connections: idle ones are kept for this client
    /// connection's later streams. Made only when a stream needs it.
    private lazy var pooledHTTP1Legs = PooledUpstreamLegSource(connector: connector, limits: limits,
                                                               idleMilliseconds: idleMilliseconds)
    /// How the shared upstream (or the connection ALPN turned into HTTP/1.1) is made:
    /// `connector`'s `connect`. A scripted test replaces it before the first stream, to
    /// hand over connections of its own (one call per connection, never per stream).
    var connectUpstream: Connect

    /// Made before its handler is (the handler holds it as a constant, so calling it takes
    /// no reference count); `attach` completes it.
    init(route: HTTP2Route, connector: UpstreamConnector, limits: HTTP1Limits, idleMilliseconds: Int,
         forwardedFor: (clientIP: String, scheme: String)?) {
        self.route = route
        self.connector = connector
        self.limits = limits
        self.idleMilliseconds = idleMilliseconds
        self.forwardedFor = forwardedFor
        connectUpstream = { target, alpn, timings, completion in
            connector.connect(to: target, alpn: alpn, timings: timings, completion: completion)
        }
    }

    /// Ties this object to the handler that owns it (once, at the end of the handler's init).
    /// - Parameter upstream: an upstream already connected with ALPN h2 (TLS interception),
    ///   if any; closed when no HTTP/2 session can be made for it.
    func attach(to handler: HTTP2ProxyHandler, upstream: UpstreamConnection?) {
        owner = Unmanaged.passUnretained(handler)
        if let upstream {
            self.upstream = try? HTTP2UpstreamConnection(upstream: upstream, owner: handler)
            if self.upstream == nil { upstream.stream.close() }
        }
    }

    // MARK: Legs for the machines

    /// The machine's `openLeg`: a leg for `exchange` (its `legAttempt` is set). A resend
    /// (`retry`) goes over a fresh HTTP/1.1 connection, on which the rule never allows another.
    @inline(__always)
    func openLeg(for exchange: HTTP2StreamExchange, retry: Bool) {
        if retry { connectHTTP1(exchange, reusing: false) } else { assignUpstream(exchange) }
    }

    /// Detaches the exchange from its upstream leg, resetting / closing it if still open
    /// (an exchange still waiting for its leg stops waiting).
    func abandon(_ exchange: HTTP2StreamExchange, code: HTTP2ErrorCode) {
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
            http1Legs.discard(leg)
        }
        exchange.leg = .none
    }

    /// The response of an HTTP/1.1 leg is over: it goes back to its source, which keeps
    /// it when it can carry another request, else closes it.
    func release(_ leg: any HTTPClientLeg) {
        http1Legs.release(leg)
    }

    /// A WebSocket relay took the HTTP/1.1 leg's transport over: the source only forgets it.
    func forgetTakenOver(_ leg: any HTTPClientLeg) {
        http1Legs.discard(leg)
    }

    // MARK: What the handler tells

    /// The upstream's SETTINGS arrived: the extended CONNECTs waiting for them get their leg.
    func upstreamSentSettings() {
        guard !waitingForSettings.isEmpty else { return }
        assignWaitingForSettings()
    }

    /// `connection` closed: when it is `upstream`, later streams get a new one (its stream
    /// legs go with it); the extended CONNECTs waiting for its SETTINGS are assigned again.
    /// A draining upstream that closed is let go (its streams were told they were lost).
    func upstreamConnectionClosed(_ connection: HTTP2UpstreamConnection) {
        if upstream === connection {
            upstream = nil
            streamLegs.removeAll()
        } else if hasDrainingUpstreams {
            drainingUpstreams.removeAll { $0 === connection }
        }
        assignWaitingForSettings()
    }

    /// The pump's round for the draining upstreams: delivers their events (the responses of
    /// their streams in flight).
    func dispatchDrainingUpstreams() {
        for connection in drainingUpstreams { connection.dispatchEvents() }
    }

    /// The pump's round for the draining upstreams: writes their output, then closes (GOAWAY,
    /// close once written) and lets go of each whose last stream is over.
    func flushDrainingUpstreams() {
        for connection in drainingUpstreams { connection.flush() }
        drainingUpstreams.removeAll { connection in
            guard connection.openStreamCount == 0 else { return false }
            connection.close()
            return true
        }
    }

    /// The capture writer is backed up (`paused`) or drained: the upstreams' reading follows.
    func setUpstreamReadingPaused(_ paused: Bool) {
        if paused { upstream?.pauseReading() } else { upstream?.resumeReading() }
        for connection in drainingUpstreams {
            if paused { connection.pauseReading() } else { connection.resumeReading() }
        }
    }

    /// Shutdown: idle HTTP/1.1 legs are closed, and those released later too.
    func closeIdleHTTP1Legs() {
        http1Legs.closeAll()
    }

    /// The client connection is gone (or aborted): every upstream connection closes.
    func closeAll() {
        waitingForUpstream = []
        http1Legs.closeAll()
        upstream?.close()
        upstream = nil
        let draining = drainingUpstreams
        drainingUpstreams = []
        for connection in draining { connection.close() }
        streamLegs.removeAll()
    }

    // MARK: Choosing a leg

    private func assignWaitingForSettings() {
        let waiting = waitingForSettings
        waitingForSettings = []
        for exchange in waiting where exchange.machine.awaitedLegAttempt != nil { assignUpstream(exchange) }
    }

    private func assignUpstream(_ exchange: HTTP2StreamExchange) {
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
        connectUpstream(route.target, alpn, first.timings) { [weak handler, unowned(unsafe) self] result in
            guard handler != nil else { // gone, and `self` with it (see "Thread ownership")
                if case .success(let connection) = result { connection.stream.close() }
                return
            }
            self.connecting = false
            let waiting = self.waitingForUpstream
            self.waitingForUpstream = []
            switch result {
            case .success(let connection) where self.handler.isClientClosed:
                connection.stream.close()
            case .success(let connection):
                if self.route.upstreamProtocol == .negotiated, connection.tls?.alpn != "h2" {
                    self.upstreamSpeaksHTTP1 = true
                    // The first waiting stream takes this connection (parked, never used: new).
                    self.pooledHTTP1Legs.adopt(HTTP1ClientLeg(upstream: connection, reused: false, limits: self.limits),
                                               under: UpstreamPoolKey(target: self.route.target, offer: .http1))
                    for exchange in waiting { self.connectHTTP1(exchange) }
                } else {
                    self.adoptUpstream(connection, for: waiting)
                }
            case .failure(let failure):
                for exchange in waiting { self.legFailedToOpen(exchange, failure) }
            }
            self.handler.pump()
        }
    }

    private func adoptUpstream(_ connection: UpstreamConnection, for waiting: [HTTP2StreamExchange]) {
        do {
            let shared = try HTTP2UpstreamConnection(upstream: connection, owner: handler)
            if let replaced = upstream { retire(replaced) }
            upstream = shared
            streamLegs.removeAll() // they hold the connection they last served
        } catch {
            connection.stream.close()
            for exchange in waiting {
                legFailedToOpen(exchange, UpstreamFailure(error: FlowError(.upstreamUnreachable, "\(error)")))
            }
            return
        }
        for exchange in waiting { assignUpstream(exchange) }
    }

    /// `connection` is no longer `upstream`: it drains when streams are still in flight on
    /// it (RFC 9113 §6.8: those up to its GOAWAY's last stream id may complete), else it
    /// closes now.
    private func retire(_ connection: HTTP2UpstreamConnection) {
        if connection.openStreamCount > 0, !connection.closed {
            drainingUpstreams.append(connection)
        } else {
            connection.close()
        }
    }

    private func openStream(_ exchange: HTTP2StreamExchange, on connection: HTTP2UpstreamConnection) {
        let fields = HTTP2HeadTranslator.http2Request(
            exchange.machine.requestFields, authority: route.isReverse ? route.target.authority : nil,
            forwardedFor: forwardedFor)
        let leg = streamLegs.leg(on: connection, owner: exchange)
        exchange.leg = .http2(leg)
        // Every h2 → h2 stream comes here: the handler is read without a retain (see `owner`).
        let now = owner!._withUnsafeGuaranteedRef { $0.eventTime }
        exchange.machine.legOpened(attempt: exchange.legAttempt, kind: .http2, reused: leg.reused,
                                   server: connection.upstream.serverAddress, tls: connection.upstream.tls,
                                   head: .http2(fields), now: now, exchange)
    }

    /// Gives the exchange an HTTP/1.1 upstream from `http1Legs`: an idle one unless
    /// `reusing` is false, else a new connection.
    private func connectHTTP1(_ exchange: HTTP2StreamExchange, reusing: Bool = true) {
        let request = UpstreamLegRequest(target: route.target, offer: .http1, timings: exchange.timings,
                                         head: .http2(exchange.machine.requestFields))
        http1Legs.leg(for: request, mayReuse: reusing) { [weak handler, unowned(unsafe) self, weak exchange, http1Legs] result in
            guard handler != nil, let exchange, self.handler.isCurrent(exchange),
                  exchange.machine.awaitedLegAttempt != nil else {
                if case .success(let leg) = result { http1Legs.discard(leg) }
                return
            }
            switch result {
            case .success(let leg): self.startHTTP1(exchange, on: leg)
            case .failure(let failure): self.legFailedToOpen(exchange, failure)
            }
            self.handler.pump()
        }
    }

    private func startHTTP1(_ exchange: HTTP2StreamExchange, on leg: any HTTPClientLeg) {
        let hostHeader = route.isReverse ? route.target.authority : nil
        let requestFields = exchange.machine.requestFields
        let head: HTTPRequestHead
        if let webSocket = exchange.webSocket {
            head = webSocket.http1UpgradeRequest(requestFields, hostHeader: hostHeader, forwardedFor: forwardedFor)
        } else {
            head = HTTP2HeadTranslator.http1Request(requestFields, hostHeader: hostHeader, forwardedFor: forwardedFor)
        }
        leg.delegate = exchange
        exchange.leg = .http1(leg)
        exchange.machine.legOpened(attempt: exchange.legAttempt, kind: .http1, reused: leg.reused,
                                   server: leg.serverAddress, tls: leg.tls, head: .http1(head),
                                   now: handler.eventTime, exchange)
        handler.http1UpstreamWritable(exchange)
    }

    /// No leg for `exchange`: its connection failed.
    private func legFailedToOpen(_ exchange: HTTP2StreamExchange, _ failure: UpstreamFailure) {
        exchange.machine.legFailedToOpen(attempt: exchange.legAttempt, failure, now: handler.eventTime, exchange)
    }
}
