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

    /// Splits `host`, `host:port`, `[v6]`, `[v6]:port`. Nil when the port is not 1 to 65535
    /// in decimal digits, or the host is empty. Works on the UTF-8 bytes: forward mode asks
    /// this once per request.
    public static func splitAuthority(_ authority: Substring, defaultPort: Int) -> (host: String, port: Int)? {
        let bytes = authority.utf8
        if bytes.first == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")) else { return nil }
            let host = String(authority[bytes.index(after: bytes.startIndex)..<close])
            let after = bytes[bytes.index(after: close)...]
            if after.isEmpty { return (host, defaultPort) }
            guard after.first == UInt8(ascii: ":"), let port = Self.port(after.dropFirst()) else { return nil }
            return (host, port)
        }
        guard let colon = bytes.lastIndex(of: UInt8(ascii: ":")) else {
            return authority.isEmpty ? nil : (String(authority), defaultPort)
        }
        guard colon != bytes.startIndex, let port = Self.port(bytes[bytes.index(after: colon)...]) else { return nil }
        return (String(authority[..<colon]), port)
    }

    /// A port written as 1 to 5 decimal digits with a value from 1 to 65535, or nil.
    private static func port(_ digits: Substring.UTF8View.SubSequence) -> Int? {
        guard !digits.isEmpty, digits.count <= 5 else { return nil }
        var value = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return (1...65535).contains(value) ? value : nil
    }
}
