import TaplineFlow
import TaplineHTTP2
import TaplineHTTPClient
import TaplineNet
import TaplineTLS
import TaplineWire

/// Reverse mode's first look at a new client connection: decides from the
/// first bytes whether it speaks HTTP/1.1, HTTP/2 with prior knowledge (the
/// connection preface), or TLS (`--listen-tls`, ALPN h2 or http/1.1; the
/// certificate from `--cert`/`--key`, else a leaf minted for the SNI), and
/// hands it to the matching handler.
///
/// The HTTP/1 path stays cheap: a first byte other than `P` (the preface
/// starts with `PRI `) goes straight to an `HTTP1ProxyHandler` with those bytes.
///
/// The header timeout runs from accept: a client that has not made itself known by
/// then (no byte, a partial preface or ClientHello, an unfinished TLS handshake) is
/// closed without an answer. The handler it is handed to gets what is left of it for
/// the first request head (HTTP/1) or the client preface (HTTP/2): one header timeout
/// in all, detection and TLS handshake included.
///
/// Thread ownership: confined to `context.loop`; retained by the context's
/// registry until it hands the connection on.
final class ReverseProtocolDetector: ClientHandler, ByteStreamDelegate {
    private let context: ProxyContext
    private let client: any ByteStream
    private var info: ClientConnectionInfo
    private let target: UpstreamTarget
    private var buffered: [UInt8] = []
    private var decided = false
    /// The TLS stream while its handshake runs (afterwards the HTTP handler owns it).
    private var tlsStream: TLSStream?
    /// Closes the connection if it is still here when the header timeout is up.
    private var handOverTimer: LoopTimer?
    /// When `start` ran (the connection was accepted), on `MonotonicClock`.
    private var acceptedAt: UInt64 = 0
    private static let prefaceStart = Array("PRI ".utf8)

    init(context: ProxyContext, client: any ByteStream, info: ClientConnectionInfo, target: UpstreamTarget) {
        self.context = context
        self.client = client
        self.info = info
        self.target = target
    }

    func start() {
        client.delegate = self
        acceptedAt = MonotonicClock.nanoseconds()
        handOverTimer = context.loop.scheduleTimer(milliseconds: context.configuration.timeouts.header) { [weak self] in
            guard let self else { return }
            self.handOverTimer = nil
            self.decided = true
            if let tlsStream = self.tlsStream { tlsStream.close() } else { self.client.close() }
        }
    }

    /// The route an HTTP/2 client connection in reverse (or served) mode takes; in served
    /// mode its streams take their legs from a source of the context's factory, and on a
    /// gRPC-Web gateway from its source (each stream a leg of its own, translated when it
    /// is gRPC-Web).
    static func http2Route(_ context: ProxyContext, target: UpstreamTarget) -> HTTP2Route {
        if let source = context.makeServedLegSource() ?? context.makeGRPCWebGatewayLegSource() {
            return HTTP2Route(target: target, upstreamProtocol: .http1, isReverse: true, legSource: source)
        }
        let configuration = context.configuration
        let upstream: HTTP2Route.UpstreamProtocol = configuration.reverseUpstreamHTTP2 ? .http2PriorKnowledge
            : target.scheme == .https ? .negotiated : .http1
        return HTTP2Route(target: target, upstreamProtocol: upstream, isReverse: true)
    }

    private func detect() {
        guard !decided else { return }
        if context.configuration.listenTLS {
            switch TLSClientHelloSniffer.sniff(buffered) {
            case .needMoreData:
                if buffered.count > TLSClientHelloSniffer.maxSniffBytes { refuse() }
            case .tlsClientHello(let serverName, let alpn):
                acceptTLS(serverName: serverName, offeredALPN: alpn)
            default:
                refuse()
            }
            return
        }
        let prefix = buffered.prefix(Self.prefaceStart.count)
        if prefix.elementsEqual(Self.prefaceStart.prefix(prefix.count)) {
            guard prefix.count == Self.prefaceStart.count else { return } // wait for "PRI "
            serveHTTP2(over: client)
        } else {
            serveHTTP1(over: client)
        }
    }

    private func serveHTTP1(over stream: any ByteStream) {
        decided = true
        cancelHandOverTimer()
        let handler = HTTP1ProxyHandler(context: context, client: stream, info: info, route: .reverse(target),
                                        legSource: context.makeServedLegSource() ?? context.makeGRPCWebGatewayLegSource())
        context.register(handler, for: stream.transport)
        handler.start(initialBytes: buffered, headerTimeLeft: headerTimeLeft())
        buffered = []
    }

    /// Milliseconds left of the header timeout that started at accept (at least 1: the
    /// hand-over timer closes the connection when none is left).
    private func headerTimeLeft() -> Int {
        let elapsed = Int((MonotonicClock.nanoseconds() &- acceptedAt) / 1_000_000)
        return max(1, context.configuration.timeouts.header - elapsed)
    }

    private func serveHTTP2(over stream: any ByteStream) {
        decided = true
        cancelHandOverTimer()
        guard let session = HTTP2ProxyHandler.makeSession() else {
            stream.close()
            return
        }
        let handler = HTTP2ProxyHandler(context: context, client: stream, info: info,
                                        route: Self.http2Route(context, target: target), session: session)
        context.register(handler, for: stream.transport)
        handler.start(initialBytes: buffered, headerTimeLeft: headerTimeLeft())
        buffered = []
    }

    private func cancelHandOverTimer() {
        handOverTimer?.cancel()
        handOverTimer = nil
    }

    /// Not TLS on a TLS listener: close (there is no way to answer in HTTP).
    private func refuse() {
        decided = true
        client.close()
    }

    private func acceptTLS(serverName: String?, offeredALPN: [String]) {
        decided = true
        let host = serverName ?? context.configuration.listenAddress.host
        let alpn = offeredALPN.contains("h2") ? "h2" : offeredALPN.contains("http/1.1") ? "http/1.1" : nil
        let engine: TLSEngine
        do {
            let leaf = try context.configuration.listenCertificate ?? context.certificateAuthority.leafCertificate(for: host)
            engine = try TLSEngine(server: TLSServerConfiguration(certificate: leaf, alpn: alpn))
        } catch {
            client.close()
            return
        }
        // TLS takes the client's socket over: only a stream straight over one has it to give.
        guard let socket = (client as? PlainStream)?.connection else {
            client.close()
            return
        }
        let tlsStream = TLSStream(connection: socket, engine: engine) { [weak self] result in
            guard let self else { return }
            guard case .success(let stream) = result else { return } // the close is reported by the stream
            self.info.scheme = "https"
            self.context.record(.connectionTLS(connection: self.info.id,
                                               tls: TLSDetails(engine: engine, serverName: engine.serverName ?? serverName),
                                               time: .now()))
            self.buffered = []
            if engine.negotiatedALPN == "h2" {
                self.serveHTTP2(over: stream)
            } else {
                self.serveHTTP1(over: stream)
            }
        }
        tlsStream.delegate = self
        self.tlsStream = tlsStream
        let hello = buffered
        buffered = []
        tlsStream.start(initialCiphertext: hello)
    }

    // MARK: ClientHandler

    func beginShutdown() {
        if !decided { abort() }
    }

    func abort() {
        client.close()
    }

    // MARK: ByteStreamDelegate

    func stream(_ stream: any ByteStream, didRead bytes: ArraySlice<UInt8>) {
        buffered.append(contentsOf: bytes)
        detect()
    }

    func streamDidReadEOF(_ stream: any ByteStream) {
        if !decided {
            decided = true
            client.close()
        }
    }

    func stream(_ stream: any ByteStream, writabilityChanged isWritable: Bool) {}

    func stream(_ stream: any ByteStream, didCloseWith error: (any Error)?) {
        cancelHandOverTimer()
        context.clientConnectionClosed(info, connection: client.transport, error: error)
    }
}
