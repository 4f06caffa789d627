/// Why `CaptureJSONParser` rejected a text, and where: `offset` is the 0-based byte
/// offset into the parsed buffer (for an events.jsonl line, into that line) of the
/// byte that made the text invalid, or the buffer's length when it ended too early.
///
/// The description reads as one sentence for a warning or an error message, e.g.
/// `byte 17: invalid escape "\x" in a string`.
public struct CaptureJSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable, CustomStringConvertible {
        /// The text ended inside a value (a truncated line or file).
        case unexpectedEnd
        /// A byte that cannot start a JSON value (e.g. `'`, `N` of NaN, `+`).
        case invalidValueStart(UInt8)
        /// `t`, `f` or `n` not followed by the rest of `true`, `false` or `null`.
        case invalidLiteral
        /// Something other than a double-quoted string where an object key belongs.
        case expectedKey(UInt8)
        /// A key not followed by `:`.
        case expectedColon(UInt8)
        /// A member or element not followed by `,` or the closing bracket.
        case expectedCommaOrClose(found: UInt8, close: UInt8)
        /// A `,` right before `}` or `]`.
        case trailingComma
        /// More than whitespace after the value.
        case trailingData(UInt8)
        /// `01`, `-00`: RFC 8259 numbers have no leading zeros.
        case leadingZero
        /// A malformed number: `-` alone, `1.`, `.5`, `1e`.
        case invalidNumber
        /// A number too large for a Double (`1e400`).
        case numberOutOfRange
        /// A raw byte below 0x20 inside a string (must be escaped).
        case controlCharacterInString(UInt8)
        /// A backslash followed by something other than `"\/bfnrtu`.
        case invalidEscape(UInt8)
        /// `\u` not followed by four hex digits.
        case invalidUnicodeEscape
        /// A `\uD800`-`\uDFFF` escape that is not half of a high-low surrogate pair.
        case loneSurrogate
        /// Bytes inside a string that are not UTF-8 (bytes >= 0x80 outside strings are
        /// reported as the unexpected byte they are).
        case invalidUTF8
        /// More nested arrays and objects than the parser's limit.
        case tooDeep(limit: Int)

        public var description: String {
            switch self {
            case .unexpectedEnd: return "the text ends before the JSON value does (truncated?)"
            case .invalidValueStart(let byte): return "\(Self.show(byte)) cannot start a JSON value"
            case .invalidLiteral: return "expected true, false or null"
            case .expectedKey(let byte): return "expected a member name in double quotes, found \(Self.show(byte))"
            case .expectedColon(let byte): return "expected \":\" after a member name, found \(Self.show(byte))"
            case .expectedCommaOrClose(let byte, let close):
                return "expected \",\" or \"\(Character(Unicode.Scalar(close)))\", found \(Self.show(byte))"
            case .trailingComma: return "a comma before a closing bracket (trailing commas are not JSON)"
            case .trailingData(let byte): return "\(Self.show(byte)) after the end of the JSON value"
            case .leadingZero: return "a number with a leading zero"
            case .invalidNumber: return "a malformed number"
            case .numberOutOfRange: return "a number too large for a double"
            case .controlCharacterInString(let byte): return "an unescaped control character \(Self.show(byte)) in a string"
            case .invalidEscape(let byte):
                guard byte >= 0x21 && byte < 0x7F else { return "a backslash followed by \(Self.show(byte)) in a string" }
                return "invalid escape \"\\\(Character(Unicode.Scalar(byte)))\" in a string"
            case .invalidUnicodeEscape: return "\"\\u\" not followed by four hex digits"
            case .loneSurrogate: return "a \\u escape of half a surrogate pair (not a character)"
            case .invalidUTF8: return "a string that is not valid UTF-8"
            case .tooDeep(let limit): return "more than \(limit) nested arrays and objects"
            }
        }

        /// A byte as the reader would want to see it: `"x"` for printable ASCII, else hex.
        private static func show(_ byte: UInt8) -> String {
            if byte >= 0x21 && byte < 0x7F { return "\"\(Character(Unicode.Scalar(byte)))\"" }
            let hex = String(byte, radix: 16, uppercase: true)
            return "byte 0x\(byte < 0x10 ? "0" : "")\(hex)"
        }
    }

    public let offset: Int
    public let reason: Reason

    public init(offset: Int, reason: Reason) {
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "byte \(offset): \(reason)" }
}
