import Foundation
import Glibc
import TaplineCapture
import TaplineFlow
import TaplineHTTPClient
import TaplineNet
import TaplineProtobuf
import TaplineProxy
import TaplineTLS
import TaplineWire

/// `tapline proxy`: runs the intercepting proxy until SIGINT/SIGTERM.
enum ProxyCommand {
    static let usage = """
    usage: tapline proxy [options]

    Runs the proxy. Forward mode (default): point clients at it as their HTTP(S) proxy
    (curl -x http://127.0.0.1:8080 ...). Reverse mode: --reverse URL puts it in front of one upstream.

    options:
      --listen HOST:PORT          address to listen on (default 127.0.0.1:8080)
      --reverse URL               reverse proxy / gateway to http(s)://host[:port], or h2c://host[:port]
                                  for an upstream speaking cleartext HTTP/2 with prior knowledge (gRPC)
      --grpc-web                  reverse mode, h2c:// or https:// (ALPN h2) upstream: a gRPC-Web gateway;
                                  browsers' gRPC-Web calls over HTTP/1.1 go upstream as native gRPC,
                                  CORS preflights are answered (docs/grpc.md)
      --listen-tls                reverse mode: accept TLS (ALPN h2, http/1.1) with a certificate from
                                  Tapline's CA for the client's SNI or the listen host
      --cert FILE --key FILE      with --listen-tls: present this certificate (PEM, leaf first, then any
                                  intermediates) and its private key (PEM, EC or RSA, unencrypted)
                                  instead; an expired certificate is served with a warning
      --capture DIR               capture sessions into DIR (default ./captures)
      --no-capture                do not record anything on disk
      --max-body-capture BYTES    keep at most BYTES of each body in the capture (the rest still flows)
      --threads N                 event loop threads (default: one per core)
      --insecure                  do not verify upstream TLS certificates
      --upstream-ca FILE          also trust the CA certificates in FILE (PEM) for upstreams
      --passthrough HOSTPATTERN   tunnel CONNECTs to matching hosts untouched (repeatable; *.example.com)
      --auto-passthrough-after N  pass a host through untouched for the rest of the run once its client
                                  rejected Tapline's certificate N times in a row (it pins; default 3)
      --no-auto-passthrough       keep intercepting hosts whose clients reject Tapline's certificate
      --socks5 [HOST:]PORT        also accept SOCKS5 clients there (host default 127.0.0.1; CONNECT with
                                  IPv4, IPv6 or a name Tapline resolves): curl --socks5-hostname ...
      --socks5-auth USER:PASS     the SOCKS5 listener requires this username and password
      --transparent [HOST:]PORT   also accept connections the kernel redirected there (nftables
                                  `redirect`; host default 127.0.0.1) and tunnel each to its original
                                  destination: TLS intercepted, HTTP proxied, anything else relayed
      --no-forwarded-headers      do not add X-Forwarded-For/-Proto/-Host in reverse mode
      --connect-timeout SECONDS   upstream connect + TLS handshake timeout (default 10)
      --response-timeout SECONDS  wait this long for an upstream's first response byte (default 60)
      --idle-timeout SECONDS      close idle client connections after this (default 120)
      --header-timeout SECONDS    a client must send a request head within this; a new
                                  connection counts it from accept (default 30)
      --grace SECONDS             on shutdown, let in-flight flows finish this long (default 5)
      --websocket-close-timeout SECONDS
                                  after a WebSocket close frame, wait this long for the answer
                                  (and then for the server to close TCP) before closing (default 5)
      --max-header-bytes BYTES    largest request/response header section (default 65536)
      --reflect                   ask each gRPC upstream's server reflection (v1, then v1alpha) for its
                                  schema the first time a call to it is seen, on a connection of its own
                                  (never delaying the call), and keep it in the session: show, export,
                                  diff and mock then decode its messages with no schema flag
      --reflect-timeout SECONDS   give up on one upstream's reflection after this long (default 10);
                                  a failed upstream is asked again after a back-off (10 s doubling to 5 min)
      --proto PATH --proto-path DIR --descriptor-set FILE
                                  a schema (as for show; repeatable), checked at start-up and kept in
                                  the session, so it decodes with no flags
      --quiet                     no live line per flow
      --log-format text|json      live line format (default text)

    environment:
      TAPLINE_HOME                where the CA lives (default ~/.tapline)
    """

    static func run(_ arguments: [String]) -> Int32 {
        var args = CommandArguments(arguments)
        if args.flag("--help") || args.flag("-h") {
            print(usage)
            return 0
        }
        let options: Options
        do {
            options = try Options(&args)
            try args.finish()
        } catch {
            StandardError.writeLine("tapline proxy: \(error)\n\n\(usage)")
            return 2
        }
        return serve(options)
    }

    struct Options {
        var configuration: ProxyConfiguration
        /// `--cert FILE --key FILE`: loaded in `serve` (a bad file is not a usage error).
        var listenCertificateFiles: (certificate: String, key: String)?
        var captureRoot: String?
        var maxBodyCapture: UInt64?
        var quiet: Bool
        var logFormat: LiveFlowLog.Format
        /// `--reflect`: the bound on each upstream's reflection ask; nil without `--reflect`.
        var reflectTimeoutMilliseconds: Int?
        /// `--proto`/`--descriptor-set`: the schema, loaded (and so checked) while the
        /// options are read, and the paths as given; kept in the session.
        var givenSchema: (schema: ProtoSchema, paths: [String])?

        /// The options `tapline proxy` takes, consumed from `args`; `defaultListen` is
        /// the address when there is no `--listen` (`tapline run` asks for port 0).
        init(_ args: inout CommandArguments, defaultListen: String = "127.0.0.1:8080") throws(UsageError) {
            let listen = try args.listenAddress(default: defaultListen)
            configuration = ProxyConfiguration(listenAddress: listen)
            if let reverse = try args.value("--reverse") {
                do {
                    let upstream = try UpstreamTarget.parseAllowingH2C(reverse)
                    configuration.mode = .reverse(upstream.target)
                    configuration.reverseUpstreamHTTP2 = upstream.priorKnowledgeHTTP2
                } catch {
                    throw UsageError("--reverse: \(error)")
                }
            }
            if args.flag("--grpc-web") {
                guard case .reverse = configuration.mode else {
                    throw UsageError("--grpc-web needs --reverse h2c://HOST:PORT or https://HOST[:PORT] (the gRPC upstream it translates for)")
                }
                configuration.grpcWebGateway = true
            }
            let noCapture = args.flag("--no-capture")
            let captureDir = try args.value("--capture")
            if noCapture, captureDir != nil { throw UsageError("--capture and --no-capture contradict each other") }
            captureRoot = noCapture ? nil : (captureDir ?? "captures")
            maxBodyCapture = try args.integer("--max-body-capture").map(UInt64.init)
            configuration.threads = try args.integer("--threads", range: 1...256)
                ?? max(1, ProcessInfo.processInfo.activeProcessorCount)
            configuration.verifyUpstreamCertificates = !args.flag("--insecure")
            if let file = try args.value("--upstream-ca") {
                guard FileManager.default.isReadableFile(atPath: file) else {
                    throw UsageError("--upstream-ca: cannot read \(file)")
                }
                configuration.upstreamTrustFile = file
            }
            configuration.passthroughHosts = args.values("--passthrough").map(HostPattern.init)
            configuration.addForwardedHeaders = !args.flag("--no-forwarded-headers")
            let autoPassthroughAfter = try args.integer("--auto-passthrough-after", range: 1...1000)
            if args.flag("--no-auto-passthrough") {
                guard autoPassthroughAfter == nil else {
                    throw UsageError("--auto-passthrough-after and --no-auto-passthrough contradict each other")
                }
                configuration.autoPassthroughAfter = nil
            } else if let autoPassthroughAfter {
                configuration.autoPassthroughAfter = autoPassthroughAfter
            }
            try Self.parseSOCKS5(&args, into: &configuration)
            if let text = try args.value("--transparent") {
                guard configuration.mode == .forward else {
                    throw UsageError("--transparent needs forward mode (redirected connections name their destination; --reverse has one)")
                }
                do {
                    configuration.transparentListenAddresses = [try SocketAddress(parsing: text.allSatisfy(\.isNumber) ? "127.0.0.1:\(text)" : text)]
                } catch {
                    throw UsageError("--transparent takes [HOST:]PORT: \(error)")
                }
            }
            configuration.listenTLS = args.flag("--listen-tls")
            if configuration.listenTLS, configuration.mode == .forward {
                throw UsageError("--listen-tls needs --reverse URL (forward-mode clients reach HTTPS with CONNECT)")
            }
            switch (try args.value("--cert"), try args.value("--key")) {
            case (nil, nil):
                listenCertificateFiles = nil
            case (let certificate?, let key?):
                guard configuration.listenTLS else {
                    throw UsageError("--cert and --key set the certificate of the TLS listener: add --listen-tls (with --reverse URL)")
                }
                listenCertificateFiles = (certificate, key)
            case (_?, nil):
                throw UsageError("--cert needs --key FILE too (the private key of the certificate)")
            case (nil, _?):
                throw UsageError("--key needs --cert FILE too (the certificate of the key)")
            }
            configuration.timeouts.connect = try Self.seconds(&args, "--connect-timeout") ?? configuration.timeouts.connect
            configuration.timeouts.response = try Self.seconds(&args, "--response-timeout") ?? configuration.timeouts.response
            configuration.timeouts.idle = try Self.seconds(&args, "--idle-timeout") ?? configuration.timeouts.idle
            configuration.timeouts.header = try Self.seconds(&args, "--header-timeout") ?? configuration.timeouts.header
            configuration.timeouts.shutdownGrace = try Self.seconds(&args, "--grace") ?? configuration.timeouts.shutdownGrace
            configuration.timeouts.webSocketClose = try Self.seconds(&args, "--websocket-close-timeout")
                ?? configuration.timeouts.webSocketClose
            if let maxHeader = try args.integer("--max-header-bytes", range: 1024...(16 << 20)) {
                configuration.limits.maxHeaderSectionBytes = maxHeader
                configuration.limits.maxTrailerSectionBytes = maxHeader
            }
            quiet = args.flag("--quiet")
            let format = try args.value("--log-format") ?? "text"
            guard let logFormat = LiveFlowLog.Format(rawValue: format) else {
                throw UsageError("--log-format takes text or json, not \(format.debugDescription)")
            }
            self.logFormat = logFormat
            let reflectTimeout = try Self.seconds(&args, "--reflect-timeout")
            if args.flag("--reflect") {
                reflectTimeoutMilliseconds = reflectTimeout ?? 10_000
            } else if reflectTimeout != nil {
                throw UsageError("--reflect-timeout goes with --reflect")
            }
            if let sources = try ProtoSchemaSources.optional(taking: &args) {
                do {
                    givenSchema = (try sources.load(), sources.protoPaths + sources.descriptorSets)
                } catch {
                    throw UsageError("the schema given does not load: \(error)")
                }
            }
        }

        /// `--socks5 [HOST:]PORT` and `--socks5-auth USER:PASS` (forward mode only).
        private static func parseSOCKS5(_ args: inout CommandArguments,
                                        into configuration: inout ProxyConfiguration) throws(UsageError) {
            let credentials = try args.value("--socks5-auth")
            guard let text = try args.value("--socks5") else {
                if credentials != nil { throw UsageError("--socks5-auth sets the SOCKS5 listener's credentials: add --socks5 [HOST:]PORT") }
                return
            }
            guard configuration.mode == .forward else {
                throw UsageError("--socks5 needs forward mode (SOCKS5 clients choose their destination; --reverse has one)")
            }
            do {
                configuration.socks5ListenAddress = try SocketAddress(parsing: text.allSatisfy(\.isNumber) ? "127.0.0.1:\(text)" : text)
            } catch {
                throw UsageError("--socks5 takes [HOST:]PORT: \(error)")
            }
            if let credentials {
                let parts = credentials.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2,
                      let pair = SOCKS5Credentials(username: String(parts[0]), password: String(parts[1])) else {
                    throw UsageError("--socks5-auth takes USER:PASS, each 1 to 255 bytes")
                }
                configuration.socks5Credentials = pair
            }
        }

        /// A duration option in (possibly fractional) seconds, as milliseconds.
        private static func seconds(_ args: inout CommandArguments, _ name: String) throws(UsageError) -> Int? {
            guard let text = try args.value(name) else { return nil }
            guard let value = Double(text), value > 0, value <= 86_400 else {
                throw UsageError("\(name) takes a number of seconds greater than 0, not \(text.debugDescription)")
            }
            return Int((value * 1000).rounded())
        }
    }

    private static func serve(_ options: Options) -> Int32 {
        var signals = RunningProxy.blockSignals([SIGINT, SIGTERM])
        guard let proxy = RunningProxy.start(options) else { return 1 }
        let configuration = proxy.configuration
        let address = proxy.address
        let modeText: String
        switch configuration.mode {
        case .forward: modeText = "forward proxy; clients use it with curl -x http://\(address)"
        case .reverse:
            // As the user wrote it: an h2c:// upstream is an http:// target spoken to in HTTP/2.
            modeText = "reverse proxy to \(configuration.reverseUpstreamDescription ?? "?")"
                + (configuration.grpcWebGateway ? ", gRPC-Web gateway" : "")
        case .served: modeText = "mock server" // tapline mock's; proxy never serves
        }
        StandardError.writeLine("tapline \(TaplineVersion.string): listening on \(address) (\(modeText))")
        if let socks5 = proxy.server.socks5BoundAddress {
            let auth = configuration.socks5Credentials == nil ? "no authentication" : "username/password required"
            StandardError.writeLine("tapline: SOCKS5 listening on \(socks5) (\(auth)); clients use it with curl --socks5-hostname \(socks5)")
            if !socks5.isLoopback {
                StandardError.writeLine("tapline: warning: SOCKS5 listening on \(socks5), not loopback: anyone who can reach it can use this proxy and have their traffic recorded")
            }
        }
        for transparent in proxy.server.transparentBoundAddresses {
            StandardError.writeLine("tapline: transparent listener on \(transparent); redirect clients' TCP to it, e.g. nft add rule ip nat output tcp dport 443 redirect to :\(transparent.port)")
        }
        if !address.isLoopback {
            StandardError.writeLine("tapline: warning: listening on \(address), not loopback: anyone who can reach it can use this proxy and have their traffic recorded")
        }
        if let writer = proxy.writer {
            StandardError.writeLine("tapline: capturing into \(writer.directory)")
        } else {
            StandardError.writeLine("tapline: not capturing (--no-capture)")
        }
        StandardError.writeLine("tapline: CA certificate for HTTPS interception: \(proxy.certificateAuthority.certificatePath)")
        if let files = options.listenCertificateFiles, let certificate = configuration.listenCertificate {
            StandardError.writeLine("tapline: TLS listener presents \(certificate.subject) from \(files.certificate)")
        }

        var received: Int32 = 0
        sigwait(&signals, &received)
        StandardError.writeLine("tapline: \(received == SIGINT ? "interrupted" : "terminated"), finishing in-flight flows (up to \(configuration.timeouts.shutdownGrace / 1000) s)")
        return proxy.stop()
    }
}
