import TaplineFlow
import TaplineHTTPClient

/// The replay of one recorded connection in one round: the flows the scheduler
/// dispatches for it go over one upstream leg from the context's `UpstreamLegSource`
/// (the proxy's pool, connector and legs), so what shared a connection in the
/// recording shares one again.
///
/// - An HTTP/1.1 leg carries one exchange at a time; the next waits until the leg is
///   free, and a leg that cannot carry another request (`poolable` false, a failure)
///   is discarded and a new one asked for.
/// - An HTTP/2 leg (`HTTP2ClientLeg`) carries every dispatched exchange at once, each on
///   a concurrent stream of its own (`openConcurrentStream`); when its connection takes
///   no new stream, a new leg is asked for.
/// - An RFC 8441 extended CONNECT (a WebSocket recorded over HTTP/2) waits for the
///   HTTP/2 server's first SETTINGS (RFC 8441 §3), and goes as a stream of its own
///   (`openExtendedConnectStream`) when they announce SETTINGS_ENABLE_CONNECT_PROTOCOL;
///   else it falls back to an HTTP/1.1 Upgrade on a connection of its own (the
///   WebSocket keeps it), as the proxy's bridge does, and the flow is noted
///   (`ReplayContext.note`). On a leg that is HTTP/1.1 (the server answered ALPN with
///   http/1.1) it goes as that Upgrade too. The exchanges after it wait meanwhile, in order.
/// - An exchange whose request failed on a reused HTTP/1.1 connection the server had
///   closed, and that `StaleConnectionRetryRule` lets go again, gets a leg over a new
///   connection (never a pooled one) and is sent once more, ahead of those waiting.
/// - When no leg can be had (refused, timed out, TLS), each waiting exchange fails with
///   that error; the next dispatch tries again.
///
/// `close` (the scheduler says the connection's flows are all finished) gives the leg
/// back to the source, which pools it for a later connection when it may carry more.
/// Recorded in the replay session as connection `connectionID` (opened when its first
/// leg arrives, closed at `close`).
///
/// Thread ownership: confined to the context's loop; owned by the `ReplayRunner`.
final class ReplayConnection: ReplayExchangeOwner {
    let connectionID: ConnectionID
    private let context: ReplayContext
    /// Tells the runner an exchange ended.
    private let reportEnded: (ReplayExchange) -> Void
    private var leg: (any HTTPClientLeg)?
    private var opening = false
    private var recordedOpen = false
    /// Dispatched exchanges that wait for a leg (or, over HTTP/1.1, for the leg to be free).
    private var waiting: [ReplayExchange] = []
    /// HTTP/1.1: the exchange the leg carries now.
    private var current: ReplayExchange?
    /// The setup (DNS, connect, TLS) of the leg just made, for the first exchange it carries.
    private var setupTimings: FlowTimings?
    /// The first waiting exchange is an extended CONNECT waiting for the HTTP/2 leg's SETTINGS.
    private var awaitingSettings = false
    /// Extended CONNECTs that fell back to an Upgrade, each with its own HTTP/1.1 leg, until they end.
    private var upgrades: [ObjectIdentifier: (exchange: ReplayExchange, leg: any HTTPClientLeg)] = [:]
    /// Its exchanges' waits for progress, kept from one exchange to the next.
    private let watches: ReplayProgressWatches

    init(context: ReplayContext, exchangeEnded: @escaping (ReplayExchange) -> Void) {
        self.context = context
        reportEnded = exchangeEnded
        connectionID = context.nextConnectionID()
        watches = ReplayProgressWatches(loop: context.loop)
    }

    /// Starts replaying `item` on this connection.
    func send(_ item: consuming ReplayItem, dispatch: ReplayDispatch) {
        let exchange = ReplayExchange(item: item, dispatch: dispatch, connection: connectionID, context: context,
                                      watches: watches, owner: self)
        exchange.begin()
        waiting.append(exchange)
        advance()
    }

    /// The connection's flows are all finished: its leg goes back to the source.
    func close() {
        if let leg {
            self.leg = nil
            context.source.release(leg)
        }
        if recordedOpen {
            context.record(.connectionClosed(connection: connectionID, time: Timestamp.now(), bytesReceived: 0,
                                             bytesSent: 0, error: nil))
        }
    }

    private func advance() {
        guard let leg else {
            if !opening, let first = waiting.first { openLeg(for: first.item.request, mayReuse: !first.wasResent) }
            return
        }
        if let connection = leg as? HTTP2ClientLeg {
            while let exchange = waiting.first {
                let extendedConnect = exchange.request.isExtendedConnect
                if extendedConnect, connection.canOpenStreams {
                    guard let accepted = connection.acceptsExtendedConnect else { return awaitSettings(of: connection) }
                    if !accepted {
                        waiting.removeFirst()
                        sendAsHTTP1Upgrade(exchange, because: "\(exchange.request.target.hostPort) speaks HTTP/2 "
                                           + "but did not announce SETTINGS_ENABLE_CONNECT_PROTOCOL")
                        continue
                    }
                }
                let opened = extendedConnect ? connection.openExtendedConnectStream(owner: exchange)
                    : connection.openConcurrentStream(owner: exchange)
                guard let stream = opened else {
                    self.leg = nil
                    context.source.discard(connection)
                    return advance()
                }
                waiting.removeFirst()
                exchange.send(over: stream, carrier: connection, connectionTimings: takeSetupTimings())
            }
        } else if current == nil, !waiting.isEmpty {
            let exchange = waiting.removeFirst()
            current = exchange
            if exchange.request.isExtendedConnect {
                exchange.fallBackToHTTP1Upgrade(because: "\(exchange.request.target.hostPort) answered ALPN with http/1.1")
            }
            exchange.send(over: leg, carrier: nil, connectionTimings: takeSetupTimings())
        }
    }

    /// Waits (once) for `connection`'s first SETTINGS: do they take an extended CONNECT?
    private func awaitSettings(of connection: HTTP2ClientLeg) {
        guard !awaitingSettings else { return }
        awaitingSettings = true
        connection.notifyWhenSettingsArrive { [weak self] in
            self?.awaitingSettings = false
            self?.advance()
        }
    }

    /// The HTTP/2 server does not take an extended CONNECT: `exchange` goes as an HTTP/1.1
    /// Upgrade on a new connection of its own, which it keeps until it ends.
    private func sendAsHTTP1Upgrade(_ exchange: ReplayExchange, because reason: String) {
        exchange.fallBackToHTTP1Upgrade(because: reason)
        let timings = FlowTimingsBox()
        let source = context.source
        source.leg(for: UpstreamLegRequest(target: exchange.request.target, offer: exchange.request.offer, timings: timings),
                   mayReuse: false) { [weak self] result in
            // `exchange` is held here (it waits in no list) until its leg arrives.
            guard let self, !exchange.isFinished else {
                if case .success(let leg) = result { source.discard(leg) }
                return
            }
            switch result {
            case .success(let leg):
                upgrades[ObjectIdentifier(exchange)] = (exchange, leg)
                exchange.send(over: leg, carrier: nil, connectionTimings: timings.value)
            case .failure(let failure):
                exchange.fail(failure.error)
            }
        }
    }

    private func takeSetupTimings() -> FlowTimings? {
        defer { setupTimings = nil }
        return setupTimings
    }

    /// `exchange` (the current one) failed on a reused connection the server had closed:
    /// that leg is discarded and the exchange sent first on a new connection.
    func exchangeWantsNewConnection(_ exchange: ReplayExchange) {
        if exchange === current { current = nil }
        if let leg {
            self.leg = nil
            context.source.discard(leg)
        }
        waiting.insert(exchange, at: 0)
        advance()
    }

    private func openLeg(for request: ReplayRequest, mayReuse: Bool) {
        opening = true
        let timings = FlowTimingsBox()
        let source = context.source
        source.leg(for: UpstreamLegRequest(target: request.target, offer: request.offer, timings: timings),
                   mayReuse: mayReuse) { [weak self] result in
            guard let self else {
                if case .success(let leg) = result { source.discard(leg) }
                return
            }
            opening = false
            switch result {
            case .success(let leg):
                self.leg = leg
                setupTimings = timings.value
                if !recordedOpen {
                    recordedOpen = true
                    context.record(.connectionOpened(connection: connectionID, client: "tapline replay",
                                                     listener: leg.serverAddress, time: Timestamp.now()))
                }
                advance()
            case .failure(let failure):
                let failed = waiting
                waiting = []
                for exchange in failed { exchange.fail(failure.error) }
            }
        }
    }

    func exchangeEnded(_ exchange: ReplayExchange) {
        if let upgrade = upgrades.removeValue(forKey: ObjectIdentifier(exchange)) {
            context.source.discard(upgrade.leg)
        }
        if exchange === current {
            current = nil
            if let leg, exchange.failure != nil || !leg.poolable {
                self.leg = nil
                context.source.discard(leg)
            }
        }
        reportEnded(exchange)
        advance()
    }
}
