import TaplineFlow
import TaplineHTTPClient
import TaplineNet
import TaplineWire

/// A connection on the SOCKS5 listener (`--socks5`) until its handshake is done:
/// a thin shell around the pure `SOCKS5ServerHandshake`, which it feeds the
/// client's bytes and whose replies it writes. On CONNECT it answers "succeeded"
/// at once (as the HTTP CONNECT path answers 200 before connecting: the upstream
/// is chosen only after the client's first bytes) and hands the connection to a
/// `ConnectTunnelHandler` for `host:port`, which detects TLS, HTTP/1.1, h2c or
/// anything else exactly as after an HTTP CONNECT. A domain name is passed on as
/// the target unresolved (socks5h semantics: Tapline resolves it, and it is the
/// flow's authority).
///
/// A refused handshake (wrong version, no acceptable method, bad credentials,
/// BIND/UDP ASSOCIATE, an unknown address type) gets the reply the protocol has
/// for it, is recorded as a `tunnel` flow with a `bad-request` error and is
/// closed. A client that has not finished the handshake within the header timeout
/// is closed, recorded as `client-timeout` if it sent anything.
///
/// Thread ownership: confined to `context.loop`; retained by the context's
/// registry until it hands the connection on.
final class SOCKS5HandshakeHandler: ClientHandler, ByteStreamDelegate {
    private let context: ProxyContext
    private let client: any ByteStream
    private let info: ClientConnectionInfo
    /// Where the client reached us: the authority of a flow recorded for a refused handshake.
    private let listenerAddress: SocketAddress
    private var handshake: SOCKS5ServerHandshake
    private var receivedAnything = false
    private var handedOver = false
    private var headerTimer: LoopTimer?

    init(context: ProxyContext, client: any ByteStream, info: ClientConnectionInfo, listenerAddress: SocketAddress) {
        self.context = context
        self.client = client
        self.info = info
        self.listenerAddress = listenerAddress
        self.handshake = SOCKS5ServerHandshake(credentials: context.configuration.socks5Credentials)
    }

    func start() {
        client.delegate = self
        let timeout = context.configuration.timeouts.header
        headerTimer = context.loop.scheduleTimer(milliseconds: timeout) { [weak self] in
            guard let self, !self.handshake.isFinished else { return }
            self.headerTimer = nil
            if self.receivedAnything {
                self.recordRefusal(FlowError(.clientTimeout,
                    "the client did not finish its SOCKS5 handshake within \(TimeoutText.seconds(timeout)) (--header-timeout)"))
            }
            self.client.close()
        }
    }

    private func perform(_ outputs: [SOCKS5HandshakeOutput]) {
        for output in outputs {
            switch output {
            case .send(let bytes):
                client.write(bytes)
            case .connect(let address, let port):
                handOver(host: address.host, port: port)
            case .failed(let error):
                cancelHeaderTimer()
                recordRefusal(FlowError(.badRequest, error.description))
                client.closeAfterFlush()
            }
        }
    }

    private func handOver(host: String, port: Int) {
        cancelHeaderTimer()
        handedOver = true
        client.write(SOCKS5ServerHandshake.reply(.succeeded))
        let tunnel = ConnectTunnelHandler(context: context, client: client, info: info, host: host, port: port,
                                          entry: .socks5)
        context.register(tunnel, for: client.transport)
        tunnel.start(initialBytes: handshake.takeUnparsedBytes())
    }

    private func cancelHeaderTimer() {
        headerTimer?.cancel()
        headerTimer = nil
    }

    private func recordRefusal(_ error: FlowError) {
        context.recordRefusedConnection(info, scheme: "socks5", authority: listenerAddress.description, error: error)
    }

    // MARK: ClientHandler

    func beginShutdown() {
        abort()
    }

    func abort() {
        client.close()
    }

    // MARK: ByteStreamDelegate

    func stream(_ stream: any ByteStream, didRead bytes: ArraySlice<UInt8>) {
        receivedAnything = true
        perform(handshake.receive(bytes))
    }

    func streamDidReadEOF(_ stream: any ByteStream) {
        if !handshake.isFinished { client.close() }
    }

    func stream(_ stream: any ByteStream, writabilityChanged isWritable: Bool) {}

    func stream(_ stream: any ByteStream, didCloseWith error: (any Error)?) {
        cancelHeaderTimer()
        context.clientConnectionClosed(info, connection: client.transport, error: error)
    }
}
