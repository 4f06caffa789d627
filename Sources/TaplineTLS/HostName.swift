import Glibc

/// Classifies the names TLS deals with: IP literals (v4 and v6) versus DNS
/// names, and whether a DNS name is safe to put in a certificate. Pure functions.
enum HostName {
    /// `host` without IPv6 brackets ("[::1]" -> "::1"), lowercased, with no trailing dot.
    static func normalized(_ host: String) -> String {
        var name = host
        if name.hasPrefix("["), name.hasSuffix("]"), name.count >= 2 {
            name = String(name.dropFirst().dropLast())
        }
        if name.hasSuffix("."), name.count > 1 { name.removeLast() }
        return name.lowercased()
    }

    /// True for an IPv4 dotted quad or an IPv6 literal (no zone, no brackets).
    static func isIPLiteral(_ host: String) -> Bool {
        var buffer = in6_addr()
        return withUnsafeMutableBytes(of: &buffer) { raw in
            inet_pton(AF_INET, host, raw.baseAddress) == 1 || inet_pton(AF_INET6, host, raw.baseAddress) == 1
        }
    }

    /// True when `host` is a plausible DNS name: 1...253 bytes of dot-separated
    /// labels of letters, digits, '-' and '_' (1...63 bytes each), optionally
    /// starting with a "*." wildcard. Guarantees no byte that could alter an
    /// OpenSSL extension string (',', ':', '@', spaces, control bytes).
    static func isValidDNSName(_ host: String) -> Bool {
        let bytes = Array(host.utf8)
        guard !bytes.isEmpty, bytes.count <= 253 else { return false }
        var labels = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        if labels.first.map(Array.init) == [UInt8(ascii: "*")], labels.count > 1 { labels.removeFirst() }
        for label in labels {
            guard !label.isEmpty, label.count <= 63 else { return false }
            for byte in label {
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                     UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
                    continue
                default:
                    return false
                }
            }
        }
        return true
    }
}
