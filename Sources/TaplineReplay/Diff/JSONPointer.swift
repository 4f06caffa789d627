import Foundation

/// A location inside a JSON document (RFC 6901): the reference tokens from the
/// root, unescaped. `text` writes it with `~` as `~0` and `/` as `~1`, so
/// `["a/b", "m~n", "3"]` is `/a~1b/m~0n/3`; the root is the empty string. A value type.
public struct JSONPointer: Sendable, Hashable, CustomStringConvertible {
    public private(set) var tokens: [String]

    public static let root = JSONPointer(tokens: [])

    public init(tokens: [String]) {
        self.tokens = tokens
    }

    /// The pointer one level down, at an object member or an array index.
    public func appending(_ token: String) -> JSONPointer {
        var result = self
        result.tokens.append(token)
        return result
    }

    public func appending(index: Int) -> JSONPointer {
        appending(String(index))
    }

    /// The RFC 6901 string form.
    public var text: String {
        tokens.map { "/" + Self.escape($0) }.joined()
    }

    public var description: String { text }

    /// `~` -> `~0`, then `/` -> `~1` (RFC 6901 §3).
    public static func escape(_ token: String) -> String {
        guard token.contains(where: { $0 == "~" || $0 == "/" }) else { return token }
        return token.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }

    /// `~1` -> `/`, then `~0` -> `~` (RFC 6901 §4: in this order, so `~01` is `~1`).
    public static func unescape(_ token: Substring) -> String {
        guard token.contains("~") else { return String(token) }
        return token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
    }
}
