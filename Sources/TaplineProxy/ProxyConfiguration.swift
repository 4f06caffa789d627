import TaplineHTTPClient
import TaplineNet
import TaplineTLS
import TaplineWire

/// Everything that shapes how the proxy runs. A value type, built once by the
/// CLI and shared read-only by every event loop.
public struct ProxyConfiguration: Sendable {
    public enum Mode: Sendable, Equatable {
        /// Clients send absolute-form requests and CONNECT (`curl -x`).
        case forward
        /// Every request goes to one upstream (`--reverse URL`).
        case reverse(UpstreamTarget)
        /// Every request is answered by legs from `legSources` (`tapline mock`), not by a
        /// real upstream; the listener detects HTTP/1.1, h2c and TLS as in reverse mode and
        /// `target` is the authority requests are addressed to (Host, `:authority`).
        case served(target: UpstreamTarget, legSources: any UpstreamLegSourceFactory)

        public static func == (a: Mode, b: Mode) -> Bool {
            switch (a, b) {
            case (.forward, .forward): return true
            case (.reverse(let x), .reverse(let y)): return x == y
            case (.served(let x, let sourcesX), .served(let y, let sourcesY)): return x == y && sourcesX === sourcesY
            default: return false
            }
        }
    }

    public var mode: Mode = .forward
    public var listenAddress: SocketAddress
    /// Event loop threads (`--threads`, default: one per core).
    public var threads: Int = 1
    /// Verify upstream certificates (off with `--insecure`).
    public var verifyUpstreamCertificates = true
    /// Extra CA certificates (PEM) trusted for upstreams (`--upstream-ca`).
    public var upstreamTrustFile: String?
    /// Host patterns whose CONNECT tunnels are relayed untouched (`--passthrough`).
    public var passthroughHosts: [HostPattern] = []
    /// Forward mode: a host whose client rejects our certificate this many times in a
    /// row is passed through for the rest of the run (`--auto-passthrough-after N`,
    /// default 3); nil: never (`--no-auto-passthrough`).
    public var autoPassthroughAfter: Int? = 3
    /// Forward mode: also accept SOCKS5 clients here (`--socks5 [HOST:]PORT`); nil: no SOCKS5 listener.
    public var socks5ListenAddress: SocketAddress?
    /// Forward mode: also accept connections the kernel redirected here (`--transparent
    /// [HOST:]PORT`, nftables `redirect`; `tapline run --transparent`: one IPv4 and one
    /// IPv6 loopback address), tunnelled to their original destination; empty: none.
    public var transparentListenAddresses: [SocketAddress] = []
    /// The network namespace (`/run/netns/NAME`) the transparent listeners are opened in
    /// (`tapline run --transparent`: the command's namespace, whose nftables rules
    /// redirect to it); nil: Tapline's own namespace.
    public var transparentNetworkNamespace: String?
    /// The transparent listeners take connections sent by an nftables `tproxy` rule
    /// (IP_TRANSPARENT; the original destination is the accepted socket's local
    /// address). False: `redirect` only (`SO_ORIGINAL_DST`).
    public var transparentListenersTakeTPROXY = false
    /// The SOCKS5 listener requires this username and password (`--socks5-auth USER:PASS`).
    public var socks5Credentials: SOCKS5Credentials?
    /// Add X-Forwarded-For/-Proto/-Host in reverse mode (`--no-forwarded-headers` clears it).
    public var addForwardedHeaders = true
    /// Reverse mode: the upstream speaks HTTP/2 with prior knowledge (`--reverse h2c://host:port`).
    public var reverseUpstreamHTTP2 = false
    /// Reverse mode: the gRPC-Web gateway (`--grpc-web`): HTTP/1.1 clients' gRPC-Web calls
    /// are translated to native gRPC toward the upstream and back (`GRPCWebGatewayLeg`).
    public var grpcWebGateway = false
    /// Reverse mode: the upstream as the user wrote it (`h2c://host:port` for an
    /// HTTP/2 prior-knowledge upstream, else `http(s)://authority`); nil in forward mode.
    /// The startup line and session.json's `proxy.upstream` both say this.
    public var reverseUpstreamDescription: String? {
        guard case .reverse(let target) = mode else { return nil }
        return reverseUpstreamHTTP2 ? "h2c://\(target.authority)" : target.description
    }
    /// Reverse mode: the listener speaks TLS (`--listen-tls`) with a certificate minted from
    /// our CA for the client's SNI (or the listen host), selecting ALPN h2 or http/1.1.
    public var listenTLS = false
    /// Reverse mode with `listenTLS`: present this certificate (`--cert FILE --key FILE`) to
    /// every client instead of minting one; nil: mint from our CA.
    public var listenCertificate: LeafCertificate?
    public var timeouts = ProxyTimeouts()
    public var limits = HTTP1Limits()
    /// Socket write-buffer watermarks: above `high` the other side is not read.
    public var writeHighWatermark = BufferLimits.socketWriteHighWatermark
    public var writeLowWatermark = BufferLimits.socketWriteLowWatermark

    public init(listenAddress: SocketAddress) {
        self.listenAddress = listenAddress
    }

    /// What the upstream connector is given (`--insecure`, `--upstream-ca`, the connect
    /// timeout and the socket watermarks above).
    public var httpClient: HTTPClientConfiguration {
        var client = HTTPClientConfiguration()
        client.connectTimeout = timeouts.connect
        client.writeHighWatermark = writeHighWatermark
        client.writeLowWatermark = writeLowWatermark
        client.verifyCertificates = verifyUpstreamCertificates
        client.additionalTrustFile = upstreamTrustFile
        return client
    }

    /// True if CONNECT to `host` must be tunnelled without interception.
    func isPassthrough(host: String) -> Bool {
        passthroughHosts.contains { $0.matches(host) }
    }
}

/// Timeouts in milliseconds.
public struct ProxyTimeouts: Sendable, Equatable {
    /// TCP connect (and TLS handshake) to an upstream; exceeded -> 504.
    public var connect = 10_000
    /// From request sent to the first response byte; exceeded -> 504.
    public var response = 60_000
    /// A client connection with no request in progress is closed after this.
    public var idle = 120_000
    /// A client must finish sending a request head within this. For a connection's first
    /// request it is counted from accept, its TLS handshake and HTTP/2 preface included
    /// (reverse mode's `ReverseProtocolDetector` hands its handler what is left); after
    /// a CONNECT, from the moment the tunnel's handler takes over.
    public var header = 30_000
    /// On shutdown, in-flight flows get this long to finish.
    public var shutdownGrace = 5_000
    /// A WebSocket peer sent a close frame: the other peer has this long to answer with
    /// its own before both connections are closed (and after both closed, the server
    /// this long to close the TCP connection).
    public var webSocketClose = 5_000

    public init() {}
}
