import Glibc

/// Connections a `TCPListener` closed without serving because the process
/// (EMFILE) or the system (ENFILE) had no file descriptor left for them, and
/// whether it lost the spare descriptor it turns them away with, as reported at
/// most once per `TCPListener.refusalReportInterval`: the first at once, later
/// ones summed up when the interval is over.
///
/// A value type, made on the listener's loop and handed to its report closure.
public struct AcceptRefusals: Sendable, Equatable, CustomStringConvertible {
    /// How many connections were accepted and closed at once since the last report.
    public var count: Int
    /// The error `accept` failed with: EMFILE or ENFILE.
    public var errorCode: Int32
    /// The process's soft limit on open descriptors (RLIMIT_NOFILE) when it happened.
    public var descriptorLimit: UInt64
    /// The spare descriptor could not be reopened: until it is, new clients wait in the
    /// backlog instead of being turned away.
    public var spareLost: Bool

    public init(count: Int, errorCode: Int32, descriptorLimit: UInt64, spareLost: Bool = false) {
        self.count = count
        self.errorCode = errorCode
        self.descriptorLimit = descriptorLimit
        self.spareLost = spareLost
    }

    public var description: String {
        var what: [String] = []
        if count > 0 { what.append("closed \(count == 1 ? "1 new connection" : "\(count) new connections") without serving") }
        if spareLost {
            what.append("no spare descriptor is left to turn new connections away with, so they wait unanswered until descriptors are freed")
        }
        let cause = errorCode == ENFILE
            ? "the system is out of file descriptors (ENFILE; see /proc/sys/fs/file-max)"
            : "too many open files (EMFILE; the limit is \(descriptorLimit), raise it with `ulimit -n`)"
        return "\(what.joined(separator: "; ")): \(cause); connections already open are still served"
    }

    /// The process's current soft RLIMIT_NOFILE.
    static func currentDescriptorLimit() -> UInt64 {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        return UInt64(limit.rlim_cur)
    }
}
