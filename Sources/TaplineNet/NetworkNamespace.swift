import CTaplineLinux
import Glibc

/// Runs code with the calling thread inside another network namespace, so that the
/// sockets it opens belong there (a listener opened this way accepts the
/// namespace's connections while the rest of the process stays in its own).
///
/// Thread ownership: affects only the calling thread, and only for the duration of
/// `body`; the thread is back in its own namespace when `withEntered` returns.
public enum NetworkNamespace {
    /// Calls `body` inside the namespace whose file is `path` (`/run/netns/NAME`).
    /// Throws when the namespace cannot be entered (needs CAP_SYS_ADMIN) or left.
    public static func withEntered<R>(_ path: String, _ body: () -> R) throws(NetError) -> R {
        let own = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
        guard own >= 0 else { throw NetError.system(call: "open /proc/thread-self/ns/net", errno: errno) }
        defer { close(own) }
        let target = open(path, O_RDONLY | O_CLOEXEC)
        guard target >= 0 else { throw NetError.system(call: "open \(path)", errno: errno) }
        defer { close(target) }
        guard tapline_enter_network_namespace(target) == 0 else {
            throw NetError.system(call: "setns \(path)", errno: errno)
        }
        let result = body()
        guard tapline_enter_network_namespace(own) == 0 else {
            throw NetError.system(call: "setns back to this process's network namespace", errno: errno)
        }
        return result
    }
}
