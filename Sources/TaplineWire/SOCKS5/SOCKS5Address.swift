/// The destination of a SOCKS5 CONNECT (RFC 1928 §5): an IPv4 or IPv6 address,
/// or a domain name the proxy resolves itself (socks5h semantics).
public enum SOCKS5Address: Sendable, Equatable {
    case ipv4([UInt8])
    case ipv6([UInt8])
    case domainName(String)

    /// The host as text for connecting and for a flow's authority: dotted IPv4,
    /// RFC 5952 IPv6 (lower case, the longest run of zero groups as `::`, no
    /// brackets), or the name as sent.
    public var host: String {
        switch self {
        case .ipv4(let bytes):
            return bytes.map(String.init).joined(separator: ".")
        case .ipv6(let bytes):
            return Self.ipv6Text(bytes)
        case .domainName(let name):
            return name
        }
    }

    private static func ipv6Text(_ bytes: [UInt8]) -> String {
        let groups = stride(from: 0, to: 16, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
        // The longest run of two or more zero groups (the first such on a tie) becomes "::".
        var best: Range<Int>?
        var index = 0
        while index < groups.count {
            guard groups[index] == 0 else { index += 1; continue }
            var end = index
            while end < groups.count, groups[end] == 0 { end += 1 }
            if end - index >= 2, end - index > (best?.count ?? 0) { best = index..<end }
            index = end
        }
        let text = { (slice: ArraySlice<UInt16>) in slice.map { String($0, radix: 16) }.joined(separator: ":") }
        guard let best else { return text(groups[...]) }
        return text(groups[..<best.lowerBound]) + "::" + text(groups[best.upperBound...])
    }
}
