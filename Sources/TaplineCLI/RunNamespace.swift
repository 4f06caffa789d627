import Foundation
import Glibc

/// The network namespace `tapline run --transparent` runs its command in: named
/// `tapline-run-<tapline's pid>` (so a run killed with SIGKILL leaves a namespace
/// the next run can tell is stale and remove), with only a loopback interface and
/// one nftables table, `ip tapline`, whose `output` chain redirects the command's TCP
/// (every port, or `ports`) to Tapline's transparent listener, which is opened inside
/// the namespace (`ProxyConfiguration.transparentNetworkNamespace`) while Tapline's
/// upstream connections leave from the host's namespace. So the host gets no
/// interface, address, route or rule, and removing the namespace removes everything.
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

    /// Creates `tapline-run-<pid>` with its loopback up.
    static func create(signals: sigset_t) throws(SetupError) -> RunNamespace {
        let namespace = RunNamespace(name: "\(namePrefix)\(getpid())")
        try run(["ip", "netns", "add", namespace.name], signals: signals)
        do {
            try run(["ip", "-n", namespace.name, "link", "set", "lo", "up"], signals: signals)
        } catch {
            namespace.remove()
            throw error
        }
        return namespace
    }

    /// Redirects the namespace's outgoing TCP (to `ports`, or every port when nil) to `port` on its loopback.
    func redirectTCP(ports: [Int]?, to port: Int, signals: sigset_t) throws(SetupError) {
        let match = ports.map { "tcp dport { \($0.map(String.init).joined(separator: ", ")) }" } ?? "meta l4proto tcp"
        let ruleset = """
            table ip tapline {
                chain output {
                    type nat hook output priority -100; policy accept;
                    \(match) redirect to :\(port)
                }
            }
            """
        try Self.run(["ip", "netns", "exec", name, "nft", ruleset], signals: signals)
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
