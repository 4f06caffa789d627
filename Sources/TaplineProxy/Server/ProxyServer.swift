import Foundation
import TaplineFlow
import TaplineHTTPClient
import TaplineNet
import TaplineTLS

/// The running proxy: one event loop per thread, each with its own
/// `ProxyContext`, and one listener (plus one each for `--socks5` and
/// `--transparent`) that hands accepted
/// connections to the loops in turn. A client connection and the upstream connections it opens live on
/// one loop, so the hot path takes no locks.
///
/// Thread ownership: `start` and `shutdown` are called from one controlling
/// thread (the CLI's main thread); everything else runs on the loops.
public final class ProxyServer: @unchecked Sendable {
    public let configuration: ProxyConfiguration
    private let recorder: (any FlowRecorder)?
    private let certificateAuthority: CertificateAuthority
    /// Tells the user about trouble that is not a flow's: clients turned away while
    /// the process is out of file descriptors (at most one line per 10 s), a host
    /// switched to pass-through because its client pins (once per host). Called on
    /// `warnings`, never on a loop, so it may block (a stderr pipe nobody reads).
    private let warn: (@Sendable (String) -> Void)?
    /// Serial: runs `warn`, keeping the accepting loop free whatever `warn` does.
    private let warnings = DispatchQueue(label: "tapline.proxy.warnings")
    private var group: EventLoopGroup?
    private var contexts: [LoopBound<ProxyContext>] = []
    private var listener: LoopBound<TCPListener>?
    private var socks5Listener: LoopBound<TCPListener>?
    private var transparentListeners: [LoopBound<TCPListener>] = []
    /// The address actually bound (the port filled in when 0 was asked for).
    public private(set) var boundAddress: SocketAddress
    /// The SOCKS5 listener's address actually bound; nil without `--socks5`.
    public private(set) var socks5BoundAddress: SocketAddress?
    /// The transparent listeners' addresses actually bound, in the order configured;
    /// empty without `--transparent`.
    public private(set) var transparentBoundAddresses: [SocketAddress] = []

    public init(configuration: ProxyConfiguration, recorder: (any FlowRecorder)?,
                certificateAuthority: CertificateAuthority, warn: (@Sendable (String) -> Void)? = nil) {
        self.configuration = configuration
        self.warn = warn
        self.recorder = recorder
        self.certificateAuthority = certificateAuthority
        self.boundAddress = configuration.listenAddress
    }

    /// Starts the loops and binds the listeners. Throws when the address cannot be bound.
    public func start() throws(ProxyError) {
        let group: EventLoopGroup
        do {
            group = try EventLoopGroup(threads: max(1, configuration.threads))
        } catch {
            throw .cannotListen(configuration.listenAddress.description, error.description)
        }
        self.group = group
        let flowIDs = IdentifierSource()
        let connectionIDs = IdentifierSource()
        let warnings = self.warnings
        let warn = self.warn
        let warnLater: @Sendable (String) -> Void = { text in warnings.async { warn?(text) } }
        let autoPassthrough = configuration.autoPassthroughAfter.map(AutoPassthroughTable.init(threshold:))
        let contexts = group.loops.map { loop in
            LoopBound(ProxyContext(loop: loop, configuration: configuration, recorder: recorder,
                                   certificateAuthority: certificateAuthority,
                                   flowIDs: flowIDs, connectionIDs: connectionIDs,
                                   autoPassthrough: autoPassthrough, warn: warnLater), loop: loop)
        }
        // Each accepted connection goes to the next loop in turn and lives there with its
        // upstream connections; `loop.index` is the loop's position in `group.loops`.
        var reportRefusals: (@Sendable (AcceptRefusals) -> Void)?
        if warn != nil {
            reportRefusals = { refusals in warnLater(refusals.description) }
        }
        var listeners: [TCPListener] = []
        var socks5: TCPListener?
        var transparent: [TCPListener] = []
        do {
            let address = configuration.listenAddress
            listeners.append(try Self.listen(on: address, group: group, onRefusals: reportRefusals) { connection in
                Self.accept(connection, context: contexts[connection.loop.index].value)
            })
            if let socks5Address = configuration.socks5ListenAddress {
                let listener = try Self.listen(on: socks5Address, group: group, onRefusals: reportRefusals) { connection in
                    Self.acceptSOCKS5(connection, context: contexts[connection.loop.index].value)
                }
                listeners.append(listener)
                socks5 = listener
            }
            // Loop detection needs every listener's bound address, known only once all are bound.
            let ownAddresses = BoundListenerAddresses()
            for transparentAddress in configuration.transparentListenAddresses {
                // Its own bound address, known once bound: a `tproxy`ed connection's local address is its destination.
                let bound = BoundListenerAddresses()
                let listener = try Self.listen(on: transparentAddress, inNetworkNamespace: configuration.transparentNetworkNamespace,
                                               transparent: configuration.transparentListenersTakeTPROXY,
                                               group: group, onRefusals: reportRefusals) { connection in
                    Self.acceptTransparent(connection, context: contexts[connection.loop.index].value,
                                           listener: bound.all.first ?? connection.localAddress, ownListeners: ownAddresses.all)
                }
                bound.all = [listener.localAddress]
                listeners.append(listener)
                transparent.append(listener)
            }
            ownAddresses.all = listeners.map(\.localAddress)
        } catch {
            for listener in listeners {
                Self.onLoop(listener.loop) { listener.close() }
            }
            group.shutdown()
            self.group = nil
            throw error
        }
        self.contexts = contexts
        self.listener = LoopBound(listeners[0], loop: listeners[0].loop)
        boundAddress = listeners[0].localAddress
        if let socks5 {
            socks5Listener = LoopBound(socks5, loop: socks5.loop)
            socks5BoundAddress = socks5.localAddress
        }
        transparentListeners = transparent.map { LoopBound($0, loop: $0.loop) }
        transparentBoundAddresses = transparent.map(\.localAddress)
    }

    private static func listen(on address: SocketAddress, transparent: Bool = false, group: EventLoopGroup,
                               onRefusals: (@Sendable (AcceptRefusals) -> Void)?,
                               accept: @escaping @Sendable (TCPConnection) -> Void) throws(ProxyError) -> TCPListener {
        do {
            return try TCPListener(distributingTo: group.loops, address: address, transparent: transparent,
                                   onRefusals: onRefusals, onAccept: accept)
        } catch {
            throw .cannotListen(address.description, error.description)
        }
    }

    /// A listener whose socket is opened inside the network namespace at `namespace`
    /// (`/run/netns/NAME`; nil: ours). Only the socket lives there; its connections
    /// run on the loops like any other. `transparent`: a TPROXY socket (`TCPListener`).
    private static func listen(on address: SocketAddress, inNetworkNamespace namespace: String?, transparent: Bool,
                               group: EventLoopGroup, onRefusals: (@Sendable (AcceptRefusals) -> Void)?,
                               accept: @escaping @Sendable (TCPConnection) -> Void) throws(ProxyError) -> TCPListener {
        guard let namespace else {
            return try listen(on: address, transparent: transparent, group: group, onRefusals: onRefusals, accept: accept)
        }
        let opened: Result<TCPListener, ProxyError>
        do {
            opened = try NetworkNamespace.withEntered(namespace) {
                do throws(ProxyError) {
                    return .success(try listen(on: address, transparent: transparent, group: group,
                                               onRefusals: onRefusals, accept: accept))
                } catch {
                    return .failure(error)
                }
            }
        } catch {
            throw .cannotListen("\(address) in the network namespace \(namespace)", error.description)
        }
        return try opened.get()
    }

    /// A connection on the SOCKS5 listener: the handshake first, then the CONNECT path.
    private static func acceptSOCKS5(_ connection: TCPConnection, context: ProxyContext) {
        guard let info = open(connection, context: context) else { return }
        let handler = SOCKS5HandshakeHandler(context: context, client: PlainStream(connection: connection), info: info,
                                             listenerAddress: connection.localAddress)
        context.register(handler, for: connection)
        handler.start()
    }

    /// A connection the kernel redirected (`redirect` or `tproxy`) to the transparent
    /// listener bound to `listener`: the CONNECT path to its original destination, or
    /// refused (recorded, closed) when it has none or that is one of our own listeners.
    private static func acceptTransparent(_ connection: TCPConnection, context: ProxyContext,
                                          listener: SocketAddress, ownListeners: [SocketAddress]) {
        guard let info = open(connection, context: context, listener: listener) else { return }
        let original = TransparentDestination.original(natOriginal: connection.originalDestination(),
                                                       acceptedLocal: connection.localAddress, listener: listener)
        let resolved = TransparentDestination.resolve(original: original, listener: listener, ownListeners: ownListeners)
        switch resolved {
        case .success(let destination):
            let tunnel = ConnectTunnelHandler(context: context, client: PlainStream(connection: connection), info: info,
                                              host: destination.host, port: destination.port, entry: .transparent)
            context.register(tunnel, for: connection)
            tunnel.start(initialBytes: [])
        case .failure(let refusal):
            context.recordRefusedConnection(info, scheme: "tcp", authority: listener.description,
                                            error: FlowError(.badRequest, refusal.description))
            context.warn(refusal.description)
            connection.close()
        }
    }

    /// Takes a new client connection on: its watermarks, its id, `connectionOpened`
    /// naming `listener` (nil: the connection's local address, which is the listener's
    /// unless the connection was `tproxy`ed). Nil (and closed) while shutting down.
    private static func open(_ connection: TCPConnection, context: ProxyContext,
                             listener: SocketAddress? = nil) -> ClientConnectionInfo? {
        if context.isShuttingDown {
            connection.close()
            return nil
        }
        connection.highWatermark = context.configuration.writeHighWatermark
        connection.lowWatermark = context.configuration.writeLowWatermark
        let info = ClientConnectionInfo(id: ConnectionID(context.connectionIDs.next()),
                                        address: connection.remoteAddress, scheme: "http")
        context.record(.connectionOpened(connection: info.id, client: connection.remoteAddress.description,
                                         listener: (listener ?? connection.localAddress).description, time: .now()))
        return info
    }

    private static func accept(_ connection: TCPConnection, context: ProxyContext) {
        guard let info = open(connection, context: context) else { return }
        switch context.configuration.mode {
        case .forward:
            let handler = HTTP1ProxyHandler(context: context, client: PlainStream(connection: connection),
                                            info: info, route: .forward)
            context.register(handler, for: connection)
            handler.start()
        case .reverse(let target), .served(let target, _):
            // HTTP/1.1, h2c with prior knowledge, or TLS (--listen-tls): decided from the first bytes.
            let detector = ReverseProtocolDetector(context: context, client: PlainStream(connection: connection),
                                                   info: info, target: target)
            context.register(detector, for: connection)
            detector.start()
        }
    }

    /// Graceful shutdown: stop accepting, let in-flight exchanges finish for the
    /// grace period, then abort what is left and stop the loops. Blocks the caller.
    public func shutdown() {
        guard let group else { return }
        for listener in [listener, socks5Listener].compactMap({ $0 }) + transparentListeners {
            Self.onLoop(listener.loop) { listener.value.close() }
        }
        for (loop, context) in zip(group.loops, contexts) {
            Self.onLoop(loop) { context.value.beginShutdown() }
        }
        let deadline = Date().addingTimeInterval(Double(configuration.timeouts.shutdownGrace) / 1000)
        while Date() < deadline {
            let live = zip(group.loops, contexts).reduce(0) { sum, pair in
                sum + Self.onLoop(pair.0) { pair.1.value.liveHandlerCount }
            }
            if live == 0 { break }
            usleep(20_000)
        }
        for (loop, context) in zip(group.loops, contexts) {
            Self.onLoop(loop) { context.value.abortAll() }
        }
        group.shutdown()
        self.group = nil
    }

    /// Runs `body` on `loop` and waits for its result (control-thread use only, never on a loop).
    @discardableResult
    private static func onLoop<T>(_ loop: EventLoop, _ body: @escaping () -> T) -> T {
        let box = ResultBox<T>()
        let semaphore = DispatchSemaphore(value: 0)
        let task = UnsafeSendableClosure { box.value = body() }
        loop.execute {
            task.body()
            semaphore.signal()
        }
        semaphore.wait()
        return box.value!
    }
}

/// Carries a result from a loop thread back to the waiting control thread.
private final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}

/// A closure handed to a loop by a thread that waits for it to finish, so it
/// never runs concurrently with the code that made it.
private struct UnsafeSendableClosure: @unchecked Sendable {
    let body: () -> Void
}
