/// An authority (`host`, `host:port`, `[v6]`, `[v6]:port`) split into its host and port
/// text, without judging either: each user checks the port its own way (a connection
/// target needs 1 to 65535, a URL read for export keeps what was written).
///
/// Works on the UTF-8 bytes. The split is the one rule both kinds of users share: a
/// host in brackets ends at `]`, and only a `:` right after it starts a port; otherwise
/// the port starts after the last `:`.
public struct HTTPAuthority: Sendable {
    /// The host, without brackets.
    public let host: Substring
    /// True when the host was written in brackets (an IPv6 literal).
    public let isBracketed: Bool
    /// The text after the port's `:` (possibly empty), or nil when there is no `:`.
    public let port: Substring?

    /// Nil when a `[` has no `]`, or something other than `:port` follows the `]`.
    public init?(_ authority: Substring) {
        let bytes = authority.utf8
        if bytes.first == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")) else { return nil }
            host = authority[bytes.index(after: bytes.startIndex)..<close]
            isBracketed = true
            let after = bytes.index(after: close)
            if after == bytes.endIndex {
                port = nil
            } else {
                guard bytes[after] == UInt8(ascii: ":") else { return nil }
                port = authority[bytes.index(after: after)...]
            }
            return
        }
        isBracketed = false
        if let colon = bytes.lastIndex(of: UInt8(ascii: ":")) {
            host = authority[..<colon]
            port = authority[bytes.index(after: colon)...]
        } else {
            host = authority
            port = nil
        }
    }

    /// `port` as 1 to 5 decimal digits with a value from 1 to 65535, or nil.
    public static func connectablePort(_ digits: Substring) -> Int? {
        let bytes = digits.utf8
        guard !bytes.isEmpty, bytes.count <= 5 else { return nil }
        var value = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return (1...65535).contains(value) ? value : nil
    }
}
