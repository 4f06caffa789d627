/// Errors from sockets, the event loop and the resolver, with messages a user can act on.
public enum NetError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidAddress(String)
    /// A system call failed: which one, and errno.
    case system(call: String, errno: Int32)
    case addressInUse(String)
    case connectionRefused(String)
    case connectTimeout(String)
    case resolveFailed(host: String, reason: String)
    case connectionReset
    case closed

    public var description: String {
        switch self {
        case .invalidAddress(let a): return "invalid address \(a.debugDescription) (expected host:port)"
        case .system(let call, let e): return "\(call) failed: \(String(cString: strerror(e)))"
        case .addressInUse(let a): return "address \(a) is already in use (another proxy running? pick another --listen port)"
        case .connectionRefused(let a): return "connection refused by \(a)"
        case .connectTimeout(let a): return "timed out connecting to \(a)"
        case .resolveFailed(let h, let r): return "cannot resolve \(h): \(r)"
        case .connectionReset: return "connection reset by peer"
        case .closed: return "connection closed"
        }
    }
}

import Glibc
