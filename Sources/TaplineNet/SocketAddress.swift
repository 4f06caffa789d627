import Glibc

/// An IPv4 or IPv6 socket address (numeric; no name resolution here).
/// `description` is `127.0.0.1:8080` or `[::1]:8080`.
///
/// Invariants: `host` is the canonical text form of a valid numeric address of
/// `family` (as printed by `inet_ntop`, without brackets), and `port` is in
/// 0...65535. Equal addresses therefore compare equal however they were written.
/// IPv4-mapped IPv6 addresses from the kernel (`::ffff:1.2.3.4`) are reported as IPv4.
public struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
    public enum Family: Sendable { case ipv4, ipv6 }
    public let host: String
    public let port: Int
    public let family: Family

    /// Parses a numeric IPv4 or IPv6 host (brackets optional) and a port.
    /// Throws `.invalidAddress` for names, malformed hosts and ports outside 0...65535.
    public init(host: String, port: Int) throws(NetError) {
        var bare = Substring(host)
        if bare.hasPrefix("["), bare.hasSuffix("]") { bare = bare.dropFirst().dropLast() }
        let shown = bare.contains(":") ? "[\(bare)]:\(port)" : "\(bare):\(port)"
        guard (0...65535).contains(port), !bare.isEmpty else { throw NetError.invalidAddress(shown) }
        let text = String(bare)
        if !text.contains(":") {
            var v4 = in_addr()
            guard inet_pton(AF_INET, text, &v4) == 1 else { throw NetError.invalidAddress(shown) }
            self.init(canonicalHost: Self.format(v4), port: port, family: .ipv4)
        } else {
            var v6 = in6_addr()
            guard inet_pton(AF_INET6, text, &v6) == 1 else { throw NetError.invalidAddress(shown) }
            self.init(canonicalHost: Self.format(v6), port: port, family: .ipv6)
        }
    }

    /// Parses `host:port` or `[v6]:port` (an IPv6 host needs the brackets).
    public init(parsing text: String) throws(NetError) {
        guard let colon = text.lastIndex(of: ":") else { throw NetError.invalidAddress(text) }
        let portText = text[text.index(after: colon)...]
        guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy({ $0.isASCII && $0.isNumber }),
              let port = Int(portText) else {
            throw NetError.invalidAddress(text)
        }
        let host = text[..<colon]
        if host.hasPrefix("[") != host.hasSuffix("]") { throw NetError.invalidAddress(text) }
        if !host.hasPrefix("["), host.contains(":") { throw NetError.invalidAddress(text) }
        do {
            try self.init(host: String(host), port: port)
        } catch {
            throw NetError.invalidAddress(text)
        }
    }

    /// No validation: `host` must already be canonical.
    init(canonicalHost: String, port: Int, family: Family) {
        self.host = canonicalHost
        self.port = port
        self.family = family
    }

    /// The wildcard address of `family` with port 0 (used when the kernel cannot tell, and
    /// by a stream with no socket under it: `tapline mock`'s WebSocket server).
    public static func unspecified(_ family: Family) -> SocketAddress {
        SocketAddress(canonicalHost: family == .ipv4 ? "0.0.0.0" : "::", port: 0, family: family)
    }

    public var isLoopback: Bool { host.hasPrefix("127.") || host == "::1" }

    public var description: String { family == .ipv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    // MARK: - sockaddr conversion

    /// Reads a kernel `sockaddr` (AF_INET or AF_INET6); nil for other families.
    init?(_ address: UnsafePointer<sockaddr>) {
        switch Int32(address.pointee.sa_family) {
        case AF_INET:
            let sin = UnsafeRawPointer(address).loadUnaligned(as: sockaddr_in.self)
            self.init(canonicalHost: Self.format(sin.sin_addr), port: Int(UInt16(bigEndian: sin.sin_port)), family: .ipv4)
        case AF_INET6:
            let sin6 = UnsafeRawPointer(address).loadUnaligned(as: sockaddr_in6.self)
            let port = Int(UInt16(bigEndian: sin6.sin6_port))
            let bytes = withUnsafeBytes(of: sin6.sin6_addr) { Array($0) }
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff {
                var v4 = in_addr()
                withUnsafeMutableBytes(of: &v4) { $0.copyBytes(from: bytes[12..<16]) }
                self.init(canonicalHost: Self.format(v4), port: port, family: .ipv4)
            } else {
                self.init(canonicalHost: Self.format(sin6.sin6_addr), port: port, family: .ipv6)
            }
        default:
            return nil
        }
    }

    /// Calls `body` with this address as a `sockaddr_in` / `sockaddr_in6`.
    func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        switch family {
        case .ipv4:
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = UInt16(port).bigEndian
            _ = inet_pton(AF_INET, host, &sin.sin_addr)
            return withUnsafePointer(to: &sin) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        case .ipv6:
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = UInt16(port).bigEndian
            _ = inet_pton(AF_INET6, host, &sin6.sin6_addr)
            return withUnsafePointer(to: &sin6) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
    }

    private static func format(_ v4: in_addr) -> String {
        var address = v4
        var buffer = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        guard inet_ntop(AF_INET, &address, &buffer, socklen_t(buffer.count)) != nil else { return "0.0.0.0" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func format(_ v6: in6_addr) -> String {
        var address = v6
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count)) != nil else { return "::" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
