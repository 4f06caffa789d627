import Foundation
import Glibc
import TaplineHTTPClient
import TaplineNet
import TaplineProxy
import TaplineTLS

/// `tapline run [options] -- CMD [ARGS...]`: runs CMD with its traffic going through
/// a forward proxy started for it (or one already running, `--proxy URL`) and
/// captured, then stops the proxy and exits with CMD's status.
///
/// Order: arguments, then CMD is located (127/126 before anything starts), signals
/// are blocked, the proxy starts on a free loopback port, the trust files are
/// prepared, CMD runs with `RunEnvironment`, and when it has ended the proxy lets
/// in-flight flows finish and closes the session. With `--transparent` (root) a
/// `RunNamespace` is set up before the proxy starts (its transparent listener is
/// opened inside it), the redirect rule once the listener's port is known, and CMD
/// runs in it with no proxy variables; the namespace is removed last.
enum RunCommand {
    static let usage = """
    usage: tapline run [options] -- COMMAND [ARGUMENTS...]

    Runs COMMAND with its HTTP(S), HTTP/2, WebSocket and gRPC traffic going through Tapline and
    captured: it starts a forward proxy on a free loopback port, gives COMMAND an environment that
    makes common clients use it and trust Tapline's CA (HTTP_PROXY, HTTPS_PROXY, SSL_CERT_FILE, ...;
    see docs/capture-any-client.md), and when COMMAND ends stops the proxy and exits with COMMAND's
    exit status (128+N when a signal N killed it; 127: not found, 126: not executable).
    Ctrl-C reaches COMMAND as if it ran alone; SIGTERM, SIGINT, SIGHUP and SIGQUIT sent to
    tapline are passed on to it.

    options:
      --proxy URL     use a proxy that is already running (http://HOST:PORT, started with the same
                      TAPLINE_HOME): only set up COMMAND's environment; its session records the flows
      any option of `tapline proxy` (see tapline proxy --help) except --reverse and --listen-tls:
      --capture DIR, --no-capture, --max-body-capture BYTES, --upstream-ca FILE, --insecure,
      --passthrough HOSTPATTERN, --reflect, --proto PATH, --quiet, timeouts, ...; --listen defaults to
      127.0.0.1:0 (a free port)
      --socks5 [HOST:]PORT  also start a SOCKS5 listener (PORT 0: a free one) and point ALL_PROXY and
                      all_proxy at it (socks5h://); the other proxy variables stay HTTP
      --transparent   run COMMAND in a network namespace of its own whose TCP the kernel redirects
                      to Tapline (nftables), so clients that ignore proxy variables are captured too;
                      needs root. IPv4 and IPv6 TCP are redirected; DNS queries (UDP port 53) go to a
                      forwarder Tapline runs, which asks the host's resolver; no other UDP leaves it.
                      The namespace is removed on exit (one left by a killed run, by the next)
      --ports LIST    with --transparent: redirect only TCP to these ports (80,443), or all (default)
      --transparent-method tproxy|redirect  with --transparent: how the namespace's nftables rules
                      send COMMAND's traffic to Tapline: tproxy (default; no nat table, so no
                      connection tracking) or redirect (a nat table; connection tracking)
      --dns-server ADDRESS[:PORT]  with --transparent: the DNS server COMMAND's queries are sent to
                      (default: the first nameserver in /etc/resolv.conf)

    environment:
      TAPLINE_HOME    where the CA and the trust bundle COMMAND gets live (default ~/.tapline)
      NO_PROXY        passed to COMMAND unchanged: hosts it names are not captured
    """

    /// Signals taken by the main thread while COMMAND runs: the ones passed on, and SIGCHLD.
    static let forwardedSignals = [SIGINT, SIGTERM, SIGHUP, SIGQUIT]

    static func run(_ arguments: [String]) -> Int32 {
        guard let separator = arguments.firstIndex(of: "--") else {
            if arguments.contains("--help") || arguments.contains("-h") {
                print(usage)
                return 0
            }
            return usageError("put -- before the command to run (tapline run [options] -- COMMAND [ARGUMENTS...])")
        }
        var args = CommandArguments(Array(arguments[..<separator]))
        let command = Array(arguments[(separator + 1)...])
        if args.flag("--help") || args.flag("-h") {
            print(usage)
            return 0
        }
        let proxyChoice: ProxyChoice
        let transparentPorts: TransparentPorts?
        let transparentMethod: TransparentMethod
        var dnsServer: SocketAddress?
        do throws(UsageError) {
            if let text = try args.value("--dns-server") { dnsServer = try TransparentDNSServer.parse(text) }
            transparentPorts = try TransparentPorts(&args)
            transparentMethod = try TransparentMethod(&args, transparent: transparentPorts != nil)
            if dnsServer != nil, transparentPorts == nil {
                throw UsageError("--dns-server chooses where --transparent's DNS forwarder sends COMMAND's queries: add --transparent")
            }
            proxyChoice = try ProxyChoice(&args)
            guard !command.isEmpty else { throw UsageError("-- must be followed by the command to run") }
            if transparentPorts != nil, case .useRunning = proxyChoice {
                throw UsageError("--transparent starts a proxy of its own (its listener lives in COMMAND's network namespace): leave out --proxy")
            }
        } catch {
            return usageError(error.description)
        }
        if transparentPorts != nil, geteuid() != 0 {
            StandardError.writeLine("tapline run: --transparent needs root (it creates a network namespace and nftables rules for COMMAND): run it as root (sudo tapline run --transparent -- ...), or use plain `tapline run -- COMMAND`, which captures clients that honour proxy variables")
            return 2
        }

        let environment = ProcessInfo.processInfo.environment
        let path: String
        do {
            path = try ChildProcess.locate(command[0], searchPath: environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin")
        } catch {
            StandardError.writeLine("tapline run: \(error)")
            return error.exitStatus
        }

        let signals = RunningProxy.blockSignals(forwardedSignals + [SIGCHLD])
        let proxy: RunningProxy?
        let proxyAddress: (host: String, port: Int)
        let certificateAuthority: CertificateAuthority
        var namespace: RunNamespace?
        var dnsForwarder: DNSForwarder?
        switch proxyChoice {
        case .start(var options):
            if transparentPorts != nil {
                for stale in RunNamespace.removeStale() {
                    StandardError.writeLine("tapline run: removed the network namespace \(stale), left by a run that no longer exists")
                }
                do {
                    namespace = try RunNamespace.create(method: transparentMethod, signals: signals)
                } catch {
                    StandardError.writeLine("tapline run: cannot set up a network namespace for \(command[0]): \(error)")
                    return 1
                }
                options.configuration.transparentListenAddresses = RunNamespace.loopbackAddresses
                options.configuration.transparentNetworkNamespace = namespace?.path
                options.configuration.transparentListenersTakeTPROXY = transparentMethod == .tproxy
            }
            guard let started = RunningProxy.start(options, command: command) else {
                namespace?.remove()
                return 1
            }
            if let namespace {
                do {
                    dnsForwarder = try startDNSForwarder(in: namespace, method: transparentMethod, server: dnsServer)
                    switch transparentMethod {
                    case .tproxy:
                        try namespace.tproxy(ports: transparentPorts?.ports, to: started.server.transparentBoundAddresses,
                                             dns: dnsForwarder?.localAddresses ?? [], signals: signals)
                    case .redirect:
                        try namespace.redirect(ports: transparentPorts?.ports, to: started.server.transparentBoundAddresses,
                                               dns: dnsForwarder?.localAddresses ?? [], signals: signals)
                    }
                } catch {
                    StandardError.writeLine("tapline run: cannot redirect \(command[0])'s traffic: \(error)")
                    dnsForwarder?.stop()
                    _ = started.stop()
                    namespace.remove()
                    return 1
                }
            }
            proxy = started
            proxyAddress = (started.address.host, started.address.port)
            certificateAuthority = started.certificateAuthority
        case .useRunning(let target):
            proxy = nil
            proxyAddress = (target.host, target.port)
            do {
                certificateAuthority = try CertificateAuthority(home: CertificateAuthority.defaultHome)
            } catch {
                StandardError.writeLine("tapline run: \(error)")
                return 1
            }
        }
        let status = runCommand(command, path: path, proxy: proxy, proxyAddress: proxyAddress,
                                certificateAuthority: certificateAuthority, environment: environment,
                                namespace: namespace.map { ($0, transparentPorts?.ports) }, signals: signals)
        dnsForwarder?.stop()
        if let proxy { _ = proxy.stop() }
        namespace?.remove()
        return status
    }

    /// Starts the forwarder that answers COMMAND's DNS queries inside `namespace`
    /// (on its loopback addresses; with `tproxy`, transparent sockets on port 53, the
    /// port answers must come from) from `server`, else the host's first nameserver;
    /// nil (with a warning: names then resolve from /etc/hosts only) when there is none.
    private static func startDNSForwarder(in namespace: RunNamespace, method: TransparentMethod,
                                          server: SocketAddress?) throws(NetError) -> DNSForwarder? {
        let resolvConf = (try? String(contentsOfFile: TransparentDNSServer.resolvConfPath, encoding: .utf8)) ?? ""
        guard let upstream = server ?? TransparentDNSServer.firstNameserver(inResolvConf: resolvConf) else {
            StandardError.writeLine("tapline run: warning: no nameserver in \(TransparentDNSServer.resolvConfPath): names resolve from /etc/hosts only inside the namespace (give one with --dns-server ADDRESS)")
            return nil
        }
        let addresses = RunNamespace.loopbackAddresses.compactMap { address in
            method == .tproxy ? try? SocketAddress(host: address.host, port: 53) : address
        }
        let forwarder = try DNSForwarder(listeningOn: addresses, inNetworkNamespace: namespace.path,
                                         transparent: method == .tproxy,
                                         upstream: upstream)
        try forwarder.start()
        return forwarder
    }

    /// Which proxy COMMAND's traffic goes through.
    enum ProxyChoice {
        /// One started for this run, with `tapline proxy`'s options.
        case start(ProxyCommand.Options)
        /// One already running (`--proxy http://HOST:PORT`).
        case useRunning(UpstreamTarget)

        /// From the options before `--`, all consumed: `--proxy URL` alone, or proxy options.
        init(_ args: inout CommandArguments) throws(UsageError) {
            if let url = try args.value("--proxy") {
                let target: UpstreamTarget
                do {
                    target = try UpstreamTarget(url: url)
                } catch {
                    throw UsageError("--proxy: \(error)")
                }
                guard target.scheme == .http else {
                    throw UsageError("--proxy takes the running proxy's http://HOST:PORT (Tapline's listener speaks plain HTTP), not \(url.debugDescription)")
                }
                do {
                    try args.finish()
                } catch {
                    throw UsageError("\(error); with --proxy URL the running proxy has its options already (give them where it was started)")
                }
                self = .useRunning(target)
            } else {
                let options = try ProxyCommand.Options(&args, defaultListen: "127.0.0.1:0")
                guard options.configuration.mode == .forward else {
                    throw UsageError("--reverse does not apply: COMMAND's clients reach the proxy as a forward proxy")
                }
                try args.finish()
                self = .start(options)
            }
        }
    }

    /// Prepares the trust files and the environment, runs COMMAND and waits for it.
    /// Returns COMMAND's status, or 1 (126/127) with a message when it could not start.
    private static func runCommand(_ command: [String], path: String, proxy: RunningProxy?,
                                   proxyAddress: (host: String, port: Int), certificateAuthority: CertificateAuthority,
                                   environment: [String: String],
                                   namespace: (RunNamespace, ports: [Int]?)?, signals: sigset_t) -> Int32 {
        let trust: ClientTrustFiles
        do {
            trust = try ClientTrustFiles.prepare(for: certificateAuthority,
                                                 baseRootsPath: environment["SSL_CERT_FILE"].flatMap { $0.isEmpty ? nil : $0 })
        } catch {
            StandardError.writeLine("tapline run: \(error)")
            return 1
        }
        if trust.baseRootsPath == nil {
            StandardError.writeLine("tapline run: warning: no system roots found in \(environment["SSL_CERT_FILE"] ?? ClientTrustFiles.defaultRootsPath): COMMAND trusts Tapline's CA only, so hosts passed through (--passthrough) will not verify")
        }
        let hostPort = proxyAddress.host.contains(":") ? "[\(proxyAddress.host)]:\(proxyAddress.port)" : "\(proxyAddress.host):\(proxyAddress.port)"
        // --socks5: ALL_PROXY names the SOCKS5 listener (socks5h: Tapline resolves names).
        let socks5URL = proxy?.server.socks5BoundAddress.map { "socks5h://\($0)" }
        let runEnvironment = RunEnvironment(inherited: environment, proxyURL: "http://\(hostPort)",
                                            proxyHost: proxyAddress.host, proxyPort: proxyAddress.port,
                                            trust: trust, authorityCertificatePath: certificateAuthority.certificatePath,
                                            socks5URL: socks5URL)
        var childEnvironment = runEnvironment
        if namespace != nil {
            // Every TCP connection is redirected already; a client sent to the forward proxy would loop.
            childEnvironment.removeProxySettings()
        }
        for warning in childEnvironment.warnings { StandardError.writeLine("tapline run: warning: \(warning)") }
        let capture: String
        if let proxy {
            capture = proxy.writer.map { "capturing into \($0.directory)" } ?? "not capturing (--no-capture)"
        } else {
            capture = "its session records the flows"
        }
        let socks5Text = socks5URL.map { " (ALL_PROXY: SOCKS5 at \($0))" } ?? ""
        if let (namespace, ports) = namespace {
            let which = ports.map { "to ports \($0.map(String.init).joined(separator: ","))" } ?? "to every port"
            StandardError.writeLine("tapline \(TaplineVersion.string): running \(command[0]) in the network namespace \(namespace.name), its TCP \(which) redirected to Tapline; \(capture)")
        } else {
            StandardError.writeLine("tapline \(TaplineVersion.string): running \(command[0]) through the proxy at \(hostPort)\(socks5Text); \(capture)")
        }
        // In a namespace: `ip netns exec NAME` enters it and execs COMMAND in its place.
        var spawnPath = path
        var spawnArguments = command
        if let (namespace, _) = namespace {
            do {
                spawnPath = try ChildProcess.locate("ip", searchPath: RunNamespace.toolSearchPath(environment))
            } catch {
                StandardError.writeLine("tapline run: \(error): --transparent needs `ip` (iproute2)")
                return 1
            }
            spawnArguments = ["ip", "netns", "exec", namespace.name, path] + command.dropFirst()
        }

        let child: ChildProcess
        do {
            child = try ChildProcess.spawn(path: spawnPath, arguments: spawnArguments, environment: childEnvironment.entries,
                                           resetSignals: forwardedSignals + [SIGCHLD, SIGPIPE, SIGXFSZ])
        } catch {
            StandardError.writeLine("tapline run: \(error)")
            return error.exitStatus
        }
        let termination = child.wait(takingSignals: signals)
        if case .killed(let signal) = termination {
            StandardError.writeLine("tapline run: \(command[0]) was killed by signal \(signal) (\(String(cString: strsignal(signal))))")
        }
        return termination.shellStatus
    }

    private static func usageError(_ message: String) -> Int32 {
        StandardError.writeLine("tapline run: \(message)\n\n\(usage)")
        return 2
    }
}
