import TaplineCapture
import TaplineWire

/// A request's URL taken apart: scheme, host, port, path segments and query
/// parameters, as Postman and HAR want them.
///
/// Invariants: `host` is lowercased and has no port or brackets' content
/// changed; `port` is nil when it is the scheme's default; `path` is the raw
/// path as sent (percent-encoding kept, at least `/`); `query` keeps the order
/// and repeats of the parameters, names and values percent-decoded.
public struct RequestURL: Sendable, Equatable {
    public var scheme: String
    public var host: String
    public var port: Int?
    public var path: String
    /// The raw query string after `?` (without it), nil when there was no `?`.
    public var rawQuery: String?

    /// `scheme://host[:port]` with the default port left out.
    public var origin: String {
        "\(scheme)://\(host)" + (port.map { ":\($0)" } ?? "")
    }

    /// `host[:port]` with the default port left out.
    public var authority: String {
        host + (port.map { ":\($0)" } ?? "")
    }

    /// The whole URL as text.
    public var absolute: String {
        origin + path + (rawQuery.map { "?" + $0 } ?? "")
    }

    /// Path segments (raw): `/users/42/` -> `users`, `42`, `` (a trailing slash keeps an empty last segment).
    public var segments: [String] {
        Self.segments(ofPath: path)
    }

    /// `segments` of a raw path. An ASCII path is split at its `/` bytes; any other
    /// is split by `Character`, as before (a combining mark after a `/` makes one
    /// character with it, which then splits nothing).
    public static func segments(ofPath path: String) -> [String] {
        let ascii: [String]? = path.withUTF8Bytes { bytes in
            guard bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
            let slash = UInt8(ascii: "/")
            // The first segment is dropped when empty: a leading `/` starts none.
            var start = bytes.first == slash ? 1 : 0
            var parts: [String] = []
            parts.reserveCapacity(bytes.reduce(1) { $1 == slash ? $0 + 1 : $0 })
            for (offset, byte) in bytes.enumerated() where byte == slash && offset >= start {
                parts.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self))
                start = offset + 1
            }
            parts.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start...]), as: UTF8.self))
            return parts
        }
        var parts: [String]
        if let ascii {
            parts = ascii
        } else {
            parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            if parts.first == "" { parts.removeFirst() }
        }
        if parts == [""] { return [] }
        return parts
    }

    /// Query parameters, decoded (`+` as space), in order.
    public var query: [(name: String, value: String?)] {
        guard let rawQuery, !rawQuery.isEmpty else { return [] }
        return PercentEncoding.formPairs(rawQuery[...])
    }

    public init(scheme: String, host: String, port: Int?, path: String, rawQuery: String?) {
        self.scheme = scheme.lowercased()
        self.host = host.lowercased()
        let defaultPort = Self.defaultPort(self.scheme)
        self.port = port == defaultPort ? nil : port
        self.path = path.isEmpty ? "/" : path
        self.rawQuery = rawQuery
    }

    static func defaultPort(_ scheme: String) -> Int? {
        switch scheme {
        case "http", "ws": return 80
        case "https", "wss": return 443
        default: return nil
        }
    }

    /// Parses an absolute URL (`https://host:8443/a/b?c=d#frag`); nil when it has no scheme or host.
    public init?(string: String) {
        guard let parts = Self.parts(string), let (host, port) = Self.splitAuthority(parts.authority) else { return nil }
        let scheme = String(parts.scheme)
        self.init(scheme: scheme, host: host, port: port ?? Self.defaultPort(scheme.lowercased()),
                  path: String(parts.path), rawQuery: parts.query.map(String.init))
    }

    /// An absolute URL's scheme, authority (without user info), path and query (after `?`),
    /// its fragment dropped; nil without `://` or with an empty or invalid scheme (RFC 3986:
    /// an ASCII letter, digit, `+`, `-` or `.`).
    ///
    /// Found on the UTF-8 bytes: every delimiter is ASCII, and no byte of a multi-byte UTF-8
    /// sequence is, so each one found is a character boundary (and `Character` steps cost
    /// ~50k instructions a URL; a replay asks once per distinct request).
    private typealias Parts = (scheme: Substring, authority: Substring, path: Substring, query: Substring?)

    private static func parts(_ string: String) -> Parts? {
        let offsets: (schemeEnd: Int, authorityStart: Int, authorityEnd: Int, pathEnd: Int, end: Int)? = string.withUTF8Bytes { bytes in
            let colon = UInt8(ascii: ":"), slash = UInt8(ascii: "/"), question = UInt8(ascii: "?")
            var schemeEnd = 0
            while schemeEnd + 2 < bytes.count, !(bytes[schemeEnd] == colon && bytes[schemeEnd + 1] == slash
                                                  && bytes[schemeEnd + 2] == slash) { schemeEnd += 1 }
            guard schemeEnd + 2 < bytes.count, schemeEnd > 0, bytes[..<schemeEnd].allSatisfy({ byte in
                let letter = byte | 0x20
                return (letter >= 0x61 && letter <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
                    || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
            }) else { return nil }
            let start = schemeEnd + 3
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "#")) ?? bytes.count
            let authorityEnd = bytes[start..<end].firstIndex { $0 == slash || $0 == question } ?? end
            let authorityStart = bytes[start..<authorityEnd].lastIndex(of: UInt8(ascii: "@")).map { $0 + 1 } ?? start
            let pathEnd = bytes[authorityEnd..<end].firstIndex(of: question) ?? end
            return (schemeEnd, authorityStart, authorityEnd, pathEnd, end)
        }
        guard let offsets else { return nil }
        let utf8 = string.utf8
        func index(_ offset: Int) -> String.Index { utf8.index(utf8.startIndex, offsetBy: offset) }
        let path = string[index(offsets.authorityEnd)..<index(offsets.pathEnd)]
        let query = offsets.pathEnd < offsets.end ? string[index(offsets.pathEnd + 1)..<index(offsets.end)] : nil
        return (string[..<index(offsets.schemeEnd)], string[index(offsets.authorityStart)..<index(offsets.authorityEnd)],
                path, query)
    }

    /// The URL of a captured flow's request (origin-form targets are joined to the flow's authority).
    public init?(flow: CapturedFlow) {
        let text = flow.url
        guard let parsed = RequestURL(string: text) else { return nil }
        self = parsed
        if flow.kind == .websocket {
            scheme = flow.scheme == "https" ? "wss" : "ws"
        }
    }

    /// `host[:port]` or `[v6]:port` -> (host, port), the brackets kept (`HTTPAuthority`);
    /// nil when empty or the port is not a number from 0 to 65535. An empty port is none.
    static func splitAuthority(_ authority: Substring) -> (String, Int?)? {
        guard !authority.isEmpty, let split = HTTPAuthority(authority) else { return nil }
        let host = split.isBracketed ? "[\(split.host)]" : String(split.host)
        guard let portText = split.port, !portText.isEmpty else { return (host, nil) }
        guard let port = Int(portText), (0...65535).contains(port) else { return nil }
        return (host, port)
    }
}
