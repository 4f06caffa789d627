/// Where a request goes: scheme, host and port of an origin server.
public struct UpstreamTarget: Sendable, Hashable, CustomStringConvertible {
    public enum Scheme: String, Sendable { case http, https }
    public var scheme: Scheme
    /// Host name or IP literal, without brackets.
    public var host: String
    public var port: Int

    public init(scheme: Scheme, host: String, port: Int) {
        self.scheme = scheme
        self.host = host
        self.port = port
    }

    /// Parses `http://host[:port]` or `https://host[:port]` (a path is not allowed).
    public init(url: String) throws(ProxyError) {
        let lower = url.lowercased()
        let scheme: Scheme
        let rest: Substring
        if lower.hasPrefix("http://") {
            scheme = .http; rest = url.dropFirst(7)
        } else if lower.hasPrefix("https://") {
            scheme = .https; rest = url.dropFirst(8)
        } else {
            throw .invalidUpstream(url, "it must start with http:// or https://")
        }
        var authority = rest
        if authority.hasSuffix("/") { authority = authority.dropLast() }
        guard !authority.isEmpty, !authority.contains("/") else {
            throw .invalidUpstream(url, "give only scheme://host[:port], without a path")
        }
        guard let parsed = Self.splitAuthority(authority, defaultPort: scheme == .https ? 443 : 80) else {
            throw .invalidUpstream(url, "the port must be a number from 1 to 65535")
        }
        self.init(scheme: scheme, host: parsed.host, port: parsed.port)
    }

    /// `host:port`, with brackets around IPv6 literals; the port left out when it is the scheme's default.
    public var authority: String {
        let bracketed = isIPv6Literal ? "[\(host)]" : host
        let defaultPort = scheme == .https ? 443 : 80
        return port == defaultPort ? bracketed : "\(bracketed):\(port)"
    }

    /// `host:port` always with the port (for logs and connection keys).
    public var hostPort: String {
        (isIPv6Literal ? "[\(host)]" : host) + ":\(port)"
    }

    public var description: String { "\(scheme.rawValue)://\(authority)" }

    /// An IPv6 address literal (it needs brackets in an authority).
    var isIPv6Literal: Bool { host.utf8.contains(UInt8(ascii: ":")) }

    /// Splits `host`, `host:port`, `[v6]`, `[v6]:port`. Nil when the port is not valid.
    static func splitAuthority(_ authority: Substring, defaultPort: Int) -> (host: String, port: Int)? {
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            let host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.isEmpty { return (host, defaultPort) }
            guard after.hasPrefix(":"), let port = Int(after.dropFirst()), (1...65535).contains(port) else { return nil }
            return (host, port)
        }
        guard let colon = authority.lastIndex(of: ":") else { return (String(authority), defaultPort) }
        guard let port = Int(authority[authority.index(after: colon)...]), (1...65535).contains(port) else { return nil }
        let host = String(authority[..<colon])
        return host.isEmpty ? nil : (host, port)
    }
}
