/// Configuration and startup errors of the proxy, worded for the person at the terminal.
public enum ProxyError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidUpstream(String, String)
    case cannotListen(String, String)
    case certificateAuthority(String)

    public var description: String {
        switch self {
        case .invalidUpstream(let url, let why): return "invalid upstream \(url.debugDescription): \(why)"
        case .cannotListen(let address, let why): return "cannot listen on \(address): \(why)"
        case .certificateAuthority(let why): return why
        }
    }
}
