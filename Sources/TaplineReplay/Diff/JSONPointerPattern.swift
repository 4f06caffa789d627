/// An `--ignore-path` rule: a JSON Pointer whose `*` tokens match any one member
/// name or array index (`/items/*/updatedAt`). It matches a pointer of exactly its
/// length; everything under a matched location is ignored with it. Tokens are
/// RFC 6901-escaped as in any pointer (`/a~1b` is the member `a/b`); a token that
/// is exactly `*` is always the wildcard, so a member literally named `*` is
/// ignored only through the wildcard. A value type.
public struct JSONPointerPattern: Sendable, Hashable, CustomStringConvertible {
    /// nil for a `*` token.
    private let tokens: [String?]
    public let text: String

    /// Parses `text`; nil unless it is a JSON Pointer (empty, or starting with `/`).
    public init?(_ text: String) {
        guard text.isEmpty || text.hasPrefix("/") else { return nil }
        self.text = text
        tokens = text.isEmpty ? [] : text.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0 == "*" ? nil : JSONPointer.unescape($0)
        }
    }

    public func matches(_ pointer: JSONPointer) -> Bool {
        guard pointer.tokens.count == tokens.count else { return false }
        return zip(tokens, pointer.tokens).allSatisfy { pattern, token in pattern == nil || pattern == token }
    }

    public var description: String { text }
}
