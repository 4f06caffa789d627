/// Configuration and startup errors of the proxy, worded for the person at the terminal.
public enum ProxyError: Error, Sendable, Equatable, CustomStringConvertible {
    case cannotListen(String, String)
    case certificateAuthority(String)

    public var description: String {
        switch self {
        case .cannotListen(let address, let why): return "cannot listen on \(address): \(why)"
        case .certificateAuthority(let why): return why
        }
    }
}
