import Foundation
import Glibc
import TaplineCapture
import TaplineExport
import TaplineFlow
import TaplineHTTPClient
import TaplineNet
import TaplineProtobuf
import TaplineProxy
import TaplineReplay
import TaplineTLS

/// `tapline mock`: serves recorded sessions back as a mock server (docs/replay.md,
/// "Mock"): the proxy's own server (HTTP/1.1, h2c, TLS with ALPN) whose upstream legs
/// answer from the recordings (`MockResponder`). Runs until SIGINT/SIGTERM; SIGHUP
/// reloads the sessions. Exit status: 0 after a clean stop, 1 runtime failure, 2 usage
/// error or a session that cannot be found or read.
enum MockCommand {
    static let usage = """
    usage: tapline mock SESSION... [options]

    Answers requests with the responses recorded in the sessions (an id, a unique prefix
    of one, `latest`, or a session directory): HTTP/1.1 and h2c on plain connections, h2 or
    HTTP/1.1 (ALPN) with --listen-tls. A request matches a recorded one with the same method,
    path, query parameters (in any order) and body (JSON structurally, forms by their fields). A gRPC call
    matches on its request messages, each compared as JSON (decoded with the schema, else by field number).
    A WebSocket opening (HTTP/1.1 Upgrade or RFC 8441 over h2) that matches a recorded one is
    accepted and the recorded server messages are played, each after the client message it
    answered; unsolicited ones after their recorded delay.

    options:
      --listen HOST:PORT        address to listen on (default 127.0.0.1:8080)
      --listen-tls              accept TLS with a certificate from Tapline's CA
      --latency recorded|none|MS
                                wait before each response: as recorded, not at all (default), or MS ms;
                                also paces WebSocket server messages (default: their recorded gaps)
      --strict                  close a WebSocket with 1008 when a client message differs from the recording
      --match-header NAME       the header NAME must be equal too (repeatable)
      --sequence loop|last|strict
                                identical requests get the recorded responses in order, then:
                                the first again (loop), the last again (last, default), none (strict)
      --ignore-query NAME       leave query parameter NAME out of matching (repeatable)
      --ignore-body-path /P     leave the JSON body location /P out of matching (repeatable; * wildcards)
      --unmatched 404|502       status of the near-miss report an unmatched request gets (default 404)
      --fallback URL            send unmatched requests to this server instead (http(s)://host[:port])
      --insecure                with --fallback: do not verify the server's TLS certificate
      --upstream-ca FILE        with --fallback: also trust the CA certificates in FILE (PEM)
      --capture                 record the mock's exchanges as a new session (with --fallback: the misses too)
      --sessions DIR            where sessions are found and --capture writes (default ./captures)
      --threads N               event loop threads (default: one per core)
      --quiet                   no live line per request

    schemas for gRPC calls (without one, request messages are compared decoded raw, by field number):
    \(ProtoSchemaSources.fileUsage)

    SIGHUP reloads the sessions. Exit status: 0 stopped, 1 runtime failure, 2 usage error or unreadable session.
    """

    static func run(_ arguments: [String]) -> Int32 {
        var args = CommandArguments(arguments)
        if args.flag("--help") || args.flag("-h") {
            print(usage)
            return 0
        }
        var options: Options
        do {
            options = try Options(&args)
            try args.finish()
        } catch {
            StandardError.writeLine("tapline mock: \(error)\n\n\(usage)")
            return 2
        }
        do {
            _ = try options.schemaSources?.files()
        } catch {
            StandardError.writeLine("tapline mock: \(error)")
            return 2
        }
        let directories: [String]
        let recordings: [MockRecording]
        do {
            (directories, recordings, options.responderOptions.grpcDecoder) = try load(options.sessions, root: options.root,
                                                                                        schemaSources: options.schemaSources)
        } catch {
            StandardError.writeLine("tapline mock: \(error)")
            return 2
        }
        return serve(options, directories: directories, recordings: recordings)
    }

    struct Options {
        /// The server's configuration; its mode (`.served` by the responder) is set in `serve`.
        var configuration: ProxyConfiguration
        /// What requests are addressed to (Host, `:authority`): the listener itself.
        var servedTarget: UpstreamTarget
        var responderOptions = MockResponder.Options()
        var sessions: [String]
        var root: String
        var capture: Bool
        var quiet: Bool
        /// `--proto`, `--proto-path`, `--descriptor-set`: loaded into `responderOptions.grpcDecoder`, with the sessions' kept schemas, once they are resolved.
        var schemaSources: ProtoSchemaSources?

        init(_ args: inout CommandArguments) throws(UsageError) {
            let listen = try args.listenAddress(default: "127.0.0.1:8080")
            configuration = ProxyConfiguration(listenAddress: listen)
            configuration.listenTLS = args.flag("--listen-tls")
            configuration.addForwardedHeaders = false
            configuration.threads = try args.integer("--threads", range: 1...256)
                ?? max(1, ProcessInfo.processInfo.activeProcessorCount)
            if let text = try args.value("--latency") {
                guard let latency = MockLatency(text) else {
                    throw UsageError("--latency takes recorded, none or a number of milliseconds (0-600000), not \(text.debugDescription)")
                }
                responderOptions.latency = latency
                responderOptions.webSocketPace = latency
            }
            responderOptions.strictWebSocket = args.flag("--strict")
            responderOptions.rules.matchedHeaders = args.values("--match-header")
            if let text = try args.value("--sequence") {
                guard let sequence = MockSequenceMode(rawValue: text) else {
                    throw UsageError("--sequence takes loop, last or strict, not \(text.debugDescription)")
                }
                responderOptions.sequence = sequence
            }
            responderOptions.rules.ignoredQueryNames = Set(args.values("--ignore-query"))
            for text in args.values("--ignore-body-path") {
                guard let pattern = JSONPointerPattern(text) else {
                    throw UsageError("--ignore-body-path takes a JSON Pointer starting with /, e.g. /meta/requestId, not \(text.debugDescription)")
                }
                responderOptions.rules.ignoredBodyPaths.append(pattern)
            }
            if let text = try args.value("--unmatched") {
                guard text == "404" || text == "502" else {
                    throw UsageError("--unmatched takes 404 or 502, not \(text.debugDescription)")
                }
                responderOptions.unmatchedStatus = Int(text) ?? 404
            }
            if let text = try args.value("--fallback") {
                do {
                    responderOptions.fallback = try UpstreamTarget(url: text)
                } catch {
                    throw UsageError("--fallback: \(error)")
                }
            }
            configuration.verifyUpstreamCertificates = !args.flag("--insecure")
            if let file = try args.value("--upstream-ca") {
                guard FileManager.default.isReadableFile(atPath: file) else {
                    throw UsageError("--upstream-ca: cannot read \(file)")
                }
                configuration.upstreamTrustFile = file
            }
            capture = args.flag("--capture")
            root = try args.value("--sessions") ?? "captures"
            quiet = args.flag("--quiet")
            schemaSources = try ProtoSchemaSources.optional(taking: &args)
            sessions = args.positionals()
            guard !sessions.isEmpty else { throw UsageError("name at least one SESSION to serve") }
            do {
                servedTarget = try UpstreamTarget(url: "\(configuration.listenTLS ? "https" : "http")://\(listen)")
            } catch {
                throw UsageError("--listen: \(error)")
            }
        }
    }

    /// The sessions' directories and their recordings.
    /// The sessions' directories and recordings, and the decoder of their gRPC messages:
    /// `schemaSources` and the schemas the sessions keep (`SessionSchemaStore`).
    private static func load(_ references: [String], root: String, schemaSources: ProtoSchemaSources?)
        throws(MockSessionError) -> ([String], [MockRecording], GRPCCallDecoder) {
        var directories: [String] = []
        for reference in references {
            do {
                directories.append(try SessionCatalog(root: root).resolve(reference))
            } catch {
                throw MockSessionError(session: reference, reason: "\(error)")
            }
        }
        let schema: ProtoSchema?
        do {
            schema = try SessionSchemaStore.decodingSchema(explicit: schemaSources, sessionDirectories: directories) {
                StandardError.writeLine("tapline mock: warning: \($0)")
            }
        } catch {
            throw MockSessionError(session: references.joined(separator: ", "), reason: "\(error)")
        }
        let decoder = GRPCCallDecoder(schema: schema)
        return (directories, try MockSessionLoader.load(directories: directories, grpcDecoder: decoder), decoder)
    }

    private static func serve(_ options: Options, directories: [String], recordings: [MockRecording]) -> Int32 {
        var signals = RunningProxy.blockSignals([SIGINT, SIGTERM, SIGHUP])

        // The live lines are written from a serial queue, never on a loop: a stderr pipe
        // nobody reads must not stall the server.
        let liveLines = DispatchQueue(label: "tapline.mock.live-lines")
        let quiet = options.quiet
        let responder = MockResponder(recordings: recordings, options: options.responderOptions) { line in
            if !quiet { liveLines.async { StandardError.writeLine("tapline mock: \(line)") } }
        }
        var configuration = options.configuration
        configuration.mode = .served(target: options.servedTarget, legSources: responder)

        let certificateAuthority: CertificateAuthority
        do {
            certificateAuthority = try CertificateAuthority(home: CertificateAuthority.defaultHome)
        } catch {
            StandardError.writeLine("tapline mock: \(error)")
            return 1
        }
        var writer: CaptureWriter?
        if options.capture {
            do {
                writer = try CaptureWriter(root: options.root, options: CaptureOptions(
                    maxBodyBytes: nil,
                    proxyDescription: ["mode": "mock", "listen": configuration.listenAddress.description,
                                       "sessions": directories.joined(separator: " ")],
                    taplineVersion: TaplineVersion.string, highWatermark: 4 << 20, lowWatermark: 1 << 20))
            } catch {
                StandardError.writeLine("tapline mock: \(error)")
                return 1
            }
        }
        let server = ProxyServer(configuration: configuration, recorder: writer, certificateAuthority: certificateAuthority,
                                 warn: { StandardError.writeLine("tapline mock: warning: \($0)") })
        do {
            try server.start()
        } catch {
            StandardError.writeLine("tapline mock: \(error)")
            writer?.close()
            return 1
        }
        let scheme = configuration.listenTLS ? "https" : "http"
        StandardError.writeLine("tapline \(TaplineVersion.string): mock serving \(recordings.count) recorded responses from \(directories.count) session(s) on \(scheme)://\(server.boundAddress)")
        if let writer { StandardError.writeLine("tapline mock: capturing into \(writer.directory)") }

        var received: Int32 = 0
        while true {
            sigwait(&signals, &received)
            guard received == SIGHUP else { break }
            do {
                let reloaded = try MockSessionLoader.load(directories: directories,
                                                          grpcDecoder: options.responderOptions.grpcDecoder)
                responder.reload(reloaded)
                StandardError.writeLine("tapline mock: reloaded \(reloaded.count) recorded responses")
            } catch {
                StandardError.writeLine("tapline mock: reload failed, still serving the previous recordings: \(error)")
            }
        }
        server.shutdown()
        writer?.close()
        if let writer { StandardError.writeLine("tapline mock: session saved in \(writer.directory)") }
        return 0
    }
}
