import Foundation
import Glibc
import TaplineNet

/// The network namespace `tapline run --transparent` runs its command in: named
/// `tapline-run-<tapline's pid>` (so a run killed with SIGKILL leaves a namespace
/// the next run can tell is stale and remove), with only a loopback interface,
/// default routes (IPv4 and IPv6) through it — so a connection to any address
/// reaches the interception instead of failing with "network unreachable" — and
/// nftables rules that send the command's TCP (every port, or `ports`) to Tapline's
/// transparent listeners and its UDP port 53 to Tapline's DNS forwarder
/// (`DNSForwarder`), all opened inside the namespace
/// (`ProxyConfiguration.transparentNetworkNamespace`) while Tapline's upstream
/// connections and DNS queries leave from the host's namespace. By
/// `TransparentMethod`, either `tproxy`: the default routes are `local` ones (every
/// address is the namespace's own, so packets come back in through the loopback and
/// are delivered there, no mark or policy rule needed), and a filter `prerouting`
/// chain of table `inet tapline` hands each connection's SYN (and each UDP 53
/// datagram) to the listener with `tproxy`, after which the connection's packets
/// find Tapline's accepted socket by the ordinary socket lookup; no `nat` table, so
/// no connection tracking. Or `redirect`: plain default routes, and `nat` `output`
/// chains in tables `ip tapline` and `ip6 tapline`. So the host gets no interface,
/// address, route or rule, and removing the namespace removes everything.
///
/// Set-up runs `ip` and `nft` (iproute2, nftables) as children of the calling thread,
/// which must have blocked SIGCHLD (`RunningProxy.blockSignals`).
struct RunNamespace {
    static let namePrefix = "tapline-run-"
    static let directory = "/run/netns"

    let name: String
    /// The namespace's file, for `setns` (`NetworkNamespace.withEntered`).
    var path: String { "\(Self.directory)/\(name)" }

    /// Why the namespace could not be set up; says what to do.
    struct SetupError: Error, CustomStringConvertible {
        let description: String
    }

    /// The addresses Tapline's listeners and DNS forwarder take inside the namespace:
    /// 127.0.0.1 and, with IPv6, ::1, each on a free port.
    static var loopbackAddresses: [SocketAddress] {
        let addresses = [try? SocketAddress(host: "127.0.0.1", port: 0), hostHasIPv6 ? try? SocketAddress(host: "::1", port: 0) : nil]
        return addresses.compactMap { $0 }
    }

    /// Whether the kernel has IPv6 (booted without `ipv6.disable=1`): only then does
    /// the namespace get an IPv6 route, listener and rules.
    static var hostHasIPv6: Bool { access("/proc/net/if_inet6", F_OK) == 0 }

    /// Creates `tapline-run-<pid>` with its loopback up and default routes through it:
    /// `local` ones for `.tproxy`.
    static func create(method: TransparentMethod, signals: sigset_t) throws(SetupError) -> RunNamespace {
        let namespace = RunNamespace(name: "\(namePrefix)\(getpid())")
        try run(["ip", "netns", "add", namespace.name], signals: signals)
        do {
            try run(["ip", "-n", namespace.name, "link", "set", "lo", "up"], signals: signals)
            // With the loopback's own address as the source: without it, a datagram to a
            // non-loopback address leaves from 0.0.0.0, and the reply to it is not matched
            // back to the redirect's conntrack entry.
            // `local`: in table local, so every address is delivered in the namespace (tproxy
            // needs the packets delivered, not forwarded); the source stays the loopback's.
            let type = method == .tproxy ? ["local"] : []
            try run(["ip", "-n", namespace.name, "route", "add"] + type + ["default", "dev", "lo", "src", "127.0.0.1"], signals: signals)
            if hostHasIPv6 {
                try run(["ip", "-n", namespace.name, "-6", "route", "add"] + type + ["default", "dev", "lo", "src", "::1"], signals: signals)
            }
        } catch {
            namespace.remove()
            throw error
        }
        return namespace
    }

    /// Redirects the namespace's outgoing TCP (to `ports`, or every port when nil) to
    /// the listener of the same family in `listeners`, and its UDP to port 53 to the
    /// DNS forwarder's socket of that family in `dns`. A family without a listener
    /// gets no rule.
    func redirect(ports: [Int]?, to listeners: [SocketAddress], dns: [SocketAddress], signals: sigset_t) throws(SetupError) {
        let match = ports.map { "tcp dport { \($0.map(String.init).joined(separator: ", ")) }" } ?? "meta l4proto tcp"
        var ruleset = ""
        for (family, table) in [(SocketAddress.Family.ipv4, "ip"), (.ipv6, "ip6")] {
            guard let listener = listeners.first(where: { $0.family == family }) else { continue }
            let dnsRule = dns.first(where: { $0.family == family }).map { "udp dport 53 redirect to :\($0.port)\n" } ?? ""
            ruleset += """
                table \(table) tapline {
                    chain output {
                        type nat hook output priority -100; policy accept;
                        \(dnsRule)\(match) redirect to :\(listener.port)
                    }
                }

                """
        }
        try Self.run(["ip", "netns", "exec", name, "nft", ruleset], signals: signals)
    }

    /// Hands the namespace's TCP connections (to `ports`, or every port when nil) to the
    /// TPROXY listener of the same family in `listeners`, and its UDP to port 53 to the
    /// DNS forwarder's TPROXY socket of that family in `dns` (bound to port 53), with
    /// no `nat` table: `tproxy` in a filter `prerouting` chain, for a connection's
    /// first SYN only (the namespace's `local` default routes deliver the rest to the
    /// accepted socket). A family without a listener gets no rule.
    func tproxy(ports: [Int]?, to listeners: [SocketAddress], dns: [SocketAddress], signals: sigset_t) throws(SetupError) {
        let match = ports.map { "tcp dport { \($0.map(String.init).joined(separator: ", ")) } " } ?? ""
        var rules = ""
        for (family, nftFamily, nfproto) in [(SocketAddress.Family.ipv4, "ip", "ipv4"), (.ipv6, "ip6", "ipv6")] {
            guard let listener = listeners.first(where: { $0.family == family }) else { continue }
            rules += "meta nfproto \(nfproto) \(match)tcp flags & (syn | ack) == syn tproxy \(nftFamily) to \(Self.nftAddress(listener))\n"
            if let forwarder = dns.first(where: { $0.family == family }) {
                rules += "meta nfproto \(nfproto) udp dport 53 tproxy \(nftFamily) to \(Self.nftAddress(forwarder))\n"
            }
        }
        let ruleset = """
            table inet tapline {
                chain prerouting {
                    type filter hook prerouting priority mangle; policy accept;
                    \(rules)
                }
            }

            """
        try Self.run(["ip", "netns", "exec", name, "nft", ruleset], signals: signals)
    }

    /// `127.0.0.1:8080`, `[::1]:8080`: an address as nftables writes it.
    private static func nftAddress(_ address: SocketAddress) -> String {
        address.family == .ipv6 ? "[\(address.host)]:\(address.port)" : "\(address.host):\(address.port)"
    }

    /// Removes the namespace's name (what `ip netns del` does); its rules and loopback
    /// go once the last process in it has ended. Quiet when it is already gone.
    func remove() {
        _ = umount2(path, Int32(MNT_DETACH))
        _ = unlink(path)
    }

    /// Removes the namespaces left by runs whose Tapline no longer exists (killed with
    /// SIGKILL, or a crash); returns their names.
    static func removeStale() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var removed: [String] = []
        for name in names where name.hasPrefix(namePrefix) {
            guard let pid = pid_t(name.dropFirst(namePrefix.count)), pid != getpid() else { continue }
            if kill(pid, 0) == 0 || errno == EPERM { continue } // that run is still going
            RunNamespace(name: name).remove()
            removed.append(name)
        }
        return removed
    }

    /// Where `ip` and `nft` are looked for: `PATH`, then the system directories a
    /// non-login root shell may leave out of it.
    static func toolSearchPath(_ environment: [String: String]) -> String {
        [environment["PATH"], "/usr/sbin:/usr/bin:/sbin:/bin"].compactMap { $0 }.joined(separator: ":")
    }

    private static func run(_ command: [String], signals: sigset_t) throws(SetupError) {
        let environment = ProcessInfo.processInfo.environment
        let path: String
        do {
            path = try ChildProcess.locate(command[0], searchPath: toolSearchPath(environment))
        } catch {
            throw SetupError(description: "\(error): tapline run --transparent needs `ip` (iproute2) and `nft` (nftables)")
        }
        let child: ChildProcess
        do {
            child = try ChildProcess.spawn(path: path, arguments: command,
                                           environment: environment.map { "\($0.key)=\($0.value)" },
                                           resetSignals: RunCommand.forwardedSignals + [SIGCHLD, SIGPIPE, SIGXFSZ])
        } catch {
            throw SetupError(description: "\(command.joined(separator: " ")): \(error)")
        }
        let termination = child.wait(takingSignals: signals)
        guard termination == .exited(0) else {
            throw SetupError(description: "\(command.prefix(4).joined(separator: " ")) ... failed (status \(termination.shellStatus)); see its message above")
        }
    }
}
