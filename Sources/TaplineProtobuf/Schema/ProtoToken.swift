/// One token of a `.proto` file.
public struct ProtoToken: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// A word: keyword, name or `inf`/`nan`.
        case identifier
        /// An integer literal as written (`42`, `0x2A`, `052`); no sign.
        case integer
        /// A floating-point literal as written (`1.5`, `.5e-3`, `1e9`); no sign.
        case float
        /// A string literal; `bytes` holds its value with escapes decoded.
        case string
        /// One punctuation character: `{ } ( ) [ ] < > ; , = . - +` and the like.
        case symbol
    }

    public var kind: Kind
    /// The text as written (for strings, including the quotes).
    public var text: String
    /// A string literal's decoded value (escapes applied; may be any bytes). Empty for other kinds.
    public var bytes: [UInt8]
    public var location: ProtoSourceLocation

    public init(kind: Kind, text: String, bytes: [UInt8] = [], location: ProtoSourceLocation) {
        self.kind = kind
        self.text = text
        self.bytes = bytes
        self.location = location
    }
}
