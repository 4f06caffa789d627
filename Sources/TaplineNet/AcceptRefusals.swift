import Glibc

/// Connections a `TCPListener` closed without serving because the process
/// (EMFILE) or the system (ENFILE) had no file descriptor left for them, as
/// reported at most once per `TCPListener.refusalReportInterval`: the first
/// refusal at once, later ones summed up when the interval is over.
///
/// A value type, made on the listener's loop and handed to its report closure.
public struct AcceptRefusals: Sendable, Equatable, CustomStringConvertible {
    /// How many connections were accepted and closed at once since the last report.
    public var count: Int
    /// The error `accept` failed with: EMFILE or ENFILE.
    public var errno: Int32
    /// The process's soft limit on open descriptors (RLIMIT_NOFILE) when it happened.
    public var descriptorLimit: UInt64

    public init(count: Int, errno: Int32, descriptorLimit: UInt64) {
        self.count = count
        self.errno = errno
        self.descriptorLimit = descriptorLimit
    }

    public var description: String {
        let connections = count == 1 ? "1 new connection" : "\(count) new connections"
        let cause = errno == ENFILE
            ? "the system is out of file descriptors (ENFILE; see /proc/sys/fs/file-max)"
            : "too many open files (EMFILE; the limit is \(descriptorLimit), raise it with `ulimit -n`)"
        return "closed \(connections) without serving: \(cause); connections already open are still served"
    }

    /// The process's current soft RLIMIT_NOFILE.
    static func currentDescriptorLimit() -> UInt64 {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        return UInt64(limit.rlim_cur)
    }
}
