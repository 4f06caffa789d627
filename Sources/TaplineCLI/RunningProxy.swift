import Foundation
import Glibc
import TaplineCapture
import TaplineFlow
import TaplineNet
import TaplineProxy
import TaplineTLS

/// A proxy started from the command line (`tapline proxy`, `tapline run`): the CA,
/// the capture writer, the live flow log and the listening `ProxyServer`, started
/// together from `ProxyCommand.Options` and stopped together by `stop()`.
///
/// Owned by the command's main thread, which starts it, waits for its signals
/// (blocked in every thread before `start`, so the loop threads inherit the mask)
/// and stops it once; the proxy's own threads never see this object.
final class RunningProxy {
    let server: ProxyServer
    let writer: CaptureWriter?
    let certificateAuthority: CertificateAuthority
    let configuration: ProxyConfiguration
    /// `--reflect`'s asker, stopped with the proxy.
    private let reflector: LiveSchemaReflector?

    /// The address clients reach the proxy at (the bound port when `--listen` asked for port 0).
    var address: SocketAddress { server.boundAddress }

    private init(server: ProxyServer, writer: CaptureWriter?, certificateAuthority: CertificateAuthority,
                 configuration: ProxyConfiguration, reflector: LiveSchemaReflector?) {
        self.server = server
        self.reflector = reflector
        self.writer = writer
        self.certificateAuthority = certificateAuthority
        self.configuration = configuration
    }

    /// Loads the CA, opens the capture session (recording `command` in its
    /// session.json when given) and starts listening. Returns nil after printing
    /// why on stderr (a bad `--cert`, an unusable CA or capture directory, a port
    /// in use); nothing is left open then.
    static func start(_ options: ProxyCommand.Options, command: [String]? = nil) -> RunningProxy? {
        var configuration = options.configuration
        if let files = options.listenCertificateFiles {
            let certificate: LeafCertificate
            do {
                certificate = try LeafCertificate(certificateFile: files.certificate, keyFile: files.key)
            } catch {
                StandardError.writeLine("tapline: --cert/--key: \(error)")
                return nil
            }
            if let problem = certificate.validityProblem() {
                StandardError.writeLine("tapline: warning: the certificate in \(files.certificate) \(problem); serving it anyway, clients that verify will refuse it")
            }
            configuration.listenCertificate = certificate
        }
        let certificateAuthority: CertificateAuthority
        do {
            certificateAuthority = try CertificateAuthority(home: CertificateAuthority.defaultHome)
        } catch {
            StandardError.writeLine("tapline: \(error)")
            return nil
        }

        var recorders: [any FlowRecorder] = []
        var writer: CaptureWriter?
        if let root = options.captureRoot {
            do {
                let captureWriter = try CaptureWriter(root: root, options: CaptureOptions(
                    maxBodyBytes: options.maxBodyCapture, proxyDescription: sessionDescription(configuration),
                    command: command,
                    taplineVersion: TaplineVersion.string,
                    // Small enough to keep the proxy's peak RSS well under 64 MB on a
                    // 1 GiB transfer, large enough that the writer thread writes in big batches.
                    highWatermark: 4 << 20, lowWatermark: 1 << 20))
                writer = captureWriter
                recorders.append(captureWriter)
            } catch {
                StandardError.writeLine("tapline: \(error)")
                return nil
            }
        }
        let store = writer.map { SessionSchemaStore(sessionDirectory: $0.directory) }
        if let given = options.givenSchema, let store {
            do {
                try store.add(given.schema, rootFiles: given.schema.files.map(\.name), name: "given.binpb") { file in
                    SessionSchemaEntry(file: file, source: .files, upstream: nil, paths: given.paths,
                                       services: given.schema.files.flatMap { file in
                                           file.services.map { file.package.isEmpty ? $0.name : "\(file.package).\($0.name)" }
                                       })
                }
            } catch {
                StandardError.writeLine("tapline: cannot keep the schema given in the session: \(error)")
                writer?.close()
                return nil
            }
        }
        var reflector: LiveSchemaReflector?
        if let timeout = options.reflectTimeoutMilliseconds {
            do {
                reflector = try LiveSchemaReflector(configuration: configuration, store: store, timeoutMilliseconds: timeout)
            } catch {
                StandardError.writeLine("tapline: --reflect: cannot start its event loop: \(error)")
                writer?.close()
                return nil
            }
            reflector.map { recorders.append($0) }
        }
        if !options.quiet {
            recorders.append(LiveFlowLog(format: options.logFormat, style: TerminalStyle(fileDescriptor: 2)))
        }
        let recorder: (any FlowRecorder)? = recorders.isEmpty ? nil
            : recorders.count == 1 ? recorders[0] : FlowRecorderFanOut(recorders)

        let server = ProxyServer(configuration: configuration, recorder: recorder,
                                 certificateAuthority: certificateAuthority,
                                 warn: { StandardError.writeLine("tapline: warning: \($0)") })
        do {
            try server.start()
        } catch {
            StandardError.writeLine("tapline: \(error)")
            reflector?.stop()
            writer?.close()
            return nil
        }
        do {
            try writer?.describeProxy(sessionDescription(configuration, boundTo: server))
        } catch {
            StandardError.writeLine("tapline: warning: session.json keeps the listen addresses as given, not as bound: \(error)")
        }
        return RunningProxy(server: server, writer: writer, certificateAuthority: certificateAuthority,
                            configuration: configuration, reflector: reflector)
    }

    /// What session.json records about the proxy (`proxy`): its mode, upstream and
    /// listeners — `listen`, `socks5`, `transparent` (its addresses, comma-separated;
    /// and `transparentNamespace`, the network namespace they were opened in) — as configured, or with `server` as bound
    /// (the ports port 0 got).
    static func sessionDescription(_ configuration: ProxyConfiguration, boundTo server: ProxyServer? = nil) -> [String: String] {
        var description = ["listen": (server?.boundAddress ?? configuration.listenAddress).description]
        switch configuration.mode {
        case .forward: description["mode"] = "forward"
        case .reverse:
            description["mode"] = "reverse"
            description["upstream"] = configuration.reverseUpstreamDescription
        case .served: description["mode"] = "mock" // tapline mock's; proxy and run never serve
        }
        if let socks5 = server?.socks5BoundAddress ?? configuration.socks5ListenAddress {
            description["socks5"] = socks5.description
        }
        let transparent = server?.transparentBoundAddresses ?? configuration.transparentListenAddresses
        if !transparent.isEmpty {
            description["transparent"] = transparent.map(\.description).joined(separator: ", ")
            if let namespace = configuration.transparentNetworkNamespace {
                description["transparentNamespace"] = (namespace as NSString).lastPathComponent
            }
        }
        return description
    }

    /// Lets in-flight flows finish (up to `--grace`), stops the loops, closes the
    /// capture session and says where it is. Returns the proxy's exit status: 0, or
    /// 1 when the capture is incomplete after a write error (said on stderr).
    func stop() -> Int32 {
        server.shutdown()
        reflector?.stop()
        writer?.close()
        guard let writer else { return 0 }
        if let failure = writer.writeFailure {
            // The proxy served every client, but the recording is not what was asked
            // for: say so, and exit non-zero so a script that wanted the capture notices.
            StandardError.writeLine("tapline: session in \(writer.directory) is INCOMPLETE: capture stopped after a write error: \(failure); what was recorded before it is kept")
            return 1
        }
        StandardError.writeLine("tapline: session saved in \(writer.directory)")
        return 0
    }

    /// Blocks `signals` in the calling thread (and so in every thread started after
    /// it), to be taken with `sigwait`/`sigwaitinfo`; ignores SIGPIPE, and SIGXFSZ so
    /// that a file-size limit (ulimit -f) makes a capture write fail with EFBIG,
    /// reported like a full disk, instead of killing the proxy. Call before `start`.
    static func blockSignals(_ signals: [Int32]) -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for number in signals { sigaddset(&set, number) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
        signal(SIGPIPE, SIG_IGN)
        signal(SIGXFSZ, SIG_IGN)
        return set
    }
}
