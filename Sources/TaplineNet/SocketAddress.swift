import Glibc

/// An IPv4 or IPv6 socket address (numeric; no name resolution here).
/// `description` is `127.0.0.1:8080` or `[::1]:8080`.
public struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
    public enum Family: Sendable { case ipv4, ipv6 }
    public let host: String
    public let port: Int
    public let family: Family

    /// Parses a numeric IPv4 or IPv6 host (brackets optional) and a port.
    public init(host: String, port: Int) throws(NetError) {
        // TODO(net): implement with inet_pton
        self.host = host
        self.port = port
        self.family = host.contains(":") ? .ipv6 : .ipv4
    }

    /// Parses `host:port`, `[v6]:port`.
    public init(parsing text: String) throws(NetError) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else {
            throw NetError.invalidAddress(text)
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        try self.init(host: host, port: port)
    }

    public var isLoopback: Bool { host.hasPrefix("127.") || host == "::1" }

    public var description: String { family == .ipv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
