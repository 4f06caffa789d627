import TaplineWire

/// Where a request goes: scheme, host and port of an origin server.
///
/// Immutable; `authority` and `hostPort` are formatted once here because every
/// proxied request reads them (a reverse proxy reuses one target for all of them).
public struct UpstreamTarget: Sendable, Hashable, CustomStringConvertible {
    public enum Scheme: String, Sendable { case http, https }
    public let scheme: Scheme
    /// Host name or IP literal, without brackets.
    public let host: String
    public let port: Int
    /// `host:port`, with brackets around IPv6 literals; the port left out when it is the scheme's default.
    public let authority: String
    /// `host:port` always with the port (for logs and connection keys).
    public let hostPort: String

    public init(scheme: Scheme, host: String, port: Int) {
        self.scheme = scheme
        self.host = host
        self.port = port
        let isIPv6Literal = host.utf8.contains(UInt8(ascii: ":"))  // needs brackets in an authority
        let bracketed = isIPv6Literal ? "[\(host)]" : host
        hostPort = bracketed + ":\(port)"
        authority = port == (scheme == .https ? 443 : 80) ? bracketed : hostPort
    }

    /// Parses `http://host[:port]` or `https://host[:port]` (a path is not allowed).
    public init(url: String) throws(InvalidUpstreamTarget) {
        let lower = url.lowercased()
        let scheme: Scheme
        let rest: Substring
        if lower.hasPrefix("http://") {
            scheme = .http; rest = url.dropFirst(7)
        } else if lower.hasPrefix("https://") {
            scheme = .https; rest = url.dropFirst(8)
        } else {
            throw InvalidUpstreamTarget(url: url, reason: "it must start with http:// or https://")
        }
        var authority = rest
        if authority.hasSuffix("/") { authority = authority.dropLast() }
        guard !authority.isEmpty, !authority.contains("/") else {
            throw InvalidUpstreamTarget(url: url, reason: "give only scheme://host[:port], without a path")
        }
        guard let parsed = Self.splitAuthority(authority, defaultPort: scheme == .https ? 443 : 80) else {
            throw InvalidUpstreamTarget(url: url, reason: "the port must be a number from 1 to 65535")
        }
        self.init(scheme: scheme, host: parsed.host, port: parsed.port)
    }

    public var description: String { "\(scheme.rawValue)://\(authority)" }

    /// Splits `host`, `host:port`, `[v6]`, `[v6]:port` (`HTTPAuthority`). Nil when the port
    /// is not 1 to 65535 in decimal digits, or the host is empty (`[]` aside, as before).
    /// Forward mode asks this once per request.
    public static func splitAuthority(_ authority: Substring, defaultPort: Int) -> (host: String, port: Int)? {
        guard let split = HTTPAuthority(authority) else { return nil }
        guard split.isBracketed || !split.host.isEmpty else { return nil }
        guard let portText = split.port else { return (String(split.host), defaultPort) }
        guard let port = HTTPAuthority.connectablePort(portText) else { return nil }
        return (String(split.host), port)
    }
}
