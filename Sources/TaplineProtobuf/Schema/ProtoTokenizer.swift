/// Splits `.proto` text into tokens, dropping `//` and `/* */` comments and whitespace.
///
/// Strings accept protoc's escapes: `\a \b \f \n \r \t \v \\ \' \" \?`, octal `\0`–`\377`
/// (1–3 digits), hex `\xH`/`\xHH`, `\uXXXX` and `\UXXXXXXXX` (encoded as UTF-8).
/// Numbers: decimal, hex (`0x`), octal (leading `0`), floats with `.` and/or exponent.
/// Pure: no I/O; a value type used once per file.
public struct ProtoTokenizer {
    private let text: [UInt8]
    private let file: String
    private var offset = 0
    private var line = 1
    private var column = 1

    public init(text: String, file: String) {
        self.text = Array(text.utf8)
        self.file = file
    }

    /// Every token of the text, in order.
    public static func tokens(of text: String, file: String) throws(ProtoSchemaError) -> [ProtoToken] {
        var tokenizer = ProtoTokenizer(text: text, file: file)
        var tokens: [ProtoToken] = []
        while let token = try tokenizer.next() {
            tokens.append(token)
        }
        return tokens
    }

    /// The next token, or nil at the end of the text.
    public mutating func next() throws(ProtoSchemaError) -> ProtoToken? {
        try skipWhitespaceAndComments()
        guard offset < text.count else { return nil }
        let start = location
        let byte = text[offset]
        if Self.isLetter(byte) {
            let begin = offset
            while offset < text.count, Self.isLetter(text[offset]) || Self.isDigit(text[offset]) { advance() }
            return ProtoToken(kind: .identifier, text: string(begin..<offset), location: start)
        }
        if Self.isDigit(byte) || (byte == UInt8(ascii: ".") && offset + 1 < text.count && Self.isDigit(text[offset + 1])) {
            return try number(start: start)
        }
        if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
            return try stringLiteral(quote: byte, start: start)
        }
        advance()
        return ProtoToken(kind: .symbol, text: String(UnicodeScalar(byte)), location: start)
    }

    private var location: ProtoSourceLocation { ProtoSourceLocation(file: file, line: line, column: column) }

    private func error(_ message: String, at location: ProtoSourceLocation? = nil) -> ProtoSchemaError {
        ProtoSchemaError(.syntax(message), at: location ?? self.location)
    }

    private mutating func advance() {
        let byte = text[offset]
        offset += 1
        if byte == 0x0A {
            line += 1
            column = 1
        } else if byte == 0x09 {
            column = ((column - 1) / 8 + 1) * 8 + 1
        } else if byte & 0xC0 != 0x80 {
            column += 1
        }
    }

    private func peek(_ ahead: Int = 0) -> UInt8? {
        offset + ahead < text.count ? text[offset + ahead] : nil
    }

    private func string(_ range: Range<Int>) -> String { String(decoding: text[range], as: UTF8.self) }

    private mutating func skipWhitespaceAndComments() throws(ProtoSchemaError) {
        while let byte = peek() {
            if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x0B || byte == 0x0C {
                advance()
            } else if byte == UInt8(ascii: "/"), peek(1) == UInt8(ascii: "/") {
                while let next = peek(), next != 0x0A { advance() }
            } else if byte == UInt8(ascii: "/"), peek(1) == UInt8(ascii: "*") {
                let start = location
                advance()
                advance()
                while true {
                    guard let next = peek() else { throw error("comment started here is never closed with */", at: start) }
                    if next == UInt8(ascii: "*"), peek(1) == UInt8(ascii: "/") {
                        advance()
                        advance()
                        break
                    }
                    advance()
                }
            } else {
                return
            }
        }
    }

    private mutating func number(start: ProtoSourceLocation) throws(ProtoSchemaError) -> ProtoToken {
        let begin = offset
        var isFloat = false
        if peek() == UInt8(ascii: "0"), let x = peek(1), x == UInt8(ascii: "x") || x == UInt8(ascii: "X") {
            advance()
            advance()
            guard let first = peek(), Self.isHexDigit(first) else { throw error("\"0x\" must be followed by hex digits") }
            while let next = peek(), Self.isHexDigit(next) { advance() }
        } else {
            while let next = peek(), Self.isDigit(next) { advance() }
            if peek() == UInt8(ascii: ".") {
                isFloat = true
                advance()
                while let next = peek(), Self.isDigit(next) { advance() }
            }
            if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
                isFloat = true
                advance()
                if let sign = peek(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { advance() }
                guard let digit = peek(), Self.isDigit(digit) else { throw error("\"e\" must be followed by exponent digits") }
                while let next = peek(), Self.isDigit(next) { advance() }
            }
        }
        if let next = peek(), Self.isLetter(next) || next == UInt8(ascii: ".") {
            throw error("need space between number and identifier")
        }
        let literal = string(begin..<offset)
        if !isFloat, literal.count > 1, literal.hasPrefix("0"), !literal.hasPrefix("0x"), !literal.hasPrefix("0X"),
           literal.utf8.contains(where: { $0 > UInt8(ascii: "7") }) {
            throw error("numbers starting with leading zero must be in octal", at: start)
        }
        return ProtoToken(kind: isFloat ? .float : .integer, text: literal, location: start)
    }

    private mutating func stringLiteral(quote: UInt8, start: ProtoSourceLocation) throws(ProtoSchemaError) -> ProtoToken {
        let begin = offset
        advance()
        var value: [UInt8] = []
        while true {
            guard let byte = peek(), byte != 0x0A else { throw error("string literal is not closed on its line", at: start) }
            if byte == quote {
                advance()
                break
            }
            if byte != UInt8(ascii: "\\") {
                value.append(byte)
                advance()
                continue
            }
            let escapeStart = location
            advance()
            guard let escape = peek() else { throw error("string literal is not closed", at: start) }
            advance()
            switch escape {
            case UInt8(ascii: "a"): value.append(0x07)
            case UInt8(ascii: "b"): value.append(0x08)
            case UInt8(ascii: "f"): value.append(0x0C)
            case UInt8(ascii: "n"): value.append(0x0A)
            case UInt8(ascii: "r"): value.append(0x0D)
            case UInt8(ascii: "t"): value.append(0x09)
            case UInt8(ascii: "v"): value.append(0x0B)
            case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "?"): value.append(escape)
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                var code = UInt32(escape - UInt8(ascii: "0"))
                for _ in 0..<2 {
                    guard let digit = peek(), digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "7") else { break }
                    code = code * 8 + UInt32(digit - UInt8(ascii: "0"))
                    advance()
                }
                guard code <= 0xFF else { throw error("octal escape is above \\377", at: escapeStart) }
                value.append(UInt8(code))
            case UInt8(ascii: "x"), UInt8(ascii: "X"):
                var code: UInt32 = 0
                var digits = 0
                while digits < 2, let digit = peek(), let nibble = Self.hexValue(digit) {
                    code = code * 16 + nibble
                    digits += 1
                    advance()
                }
                guard digits > 0 else { throw error("\\x must be followed by hex digits", at: escapeStart) }
                value.append(UInt8(code))
            case UInt8(ascii: "u"), UInt8(ascii: "U"):
                let count = escape == UInt8(ascii: "u") ? 4 : 8
                var code: UInt32 = 0
                for _ in 0..<count {
                    guard let digit = peek(), let nibble = Self.hexValue(digit) else {
                        throw error("\\\(escape == UInt8(ascii: "u") ? "u" : "U") must be followed by \(count) hex digits", at: escapeStart)
                    }
                    code = code &* 16 &+ nibble
                    advance()
                }
                guard let scalar = Unicode.Scalar(code) else {
                    throw error("\\u escape names no Unicode character", at: escapeStart)
                }
                value.append(contentsOf: Array(String(Character(scalar)).utf8))
            default:
                throw error("invalid escape sequence \\\(String(UnicodeScalar(escape)))", at: escapeStart)
            }
        }
        return ProtoToken(kind: .string, text: string(begin..<offset), bytes: value, location: start)
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || byte == UInt8(ascii: "_")
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private static func isHexDigit(_ byte: UInt8) -> Bool { hexValue(byte) != nil }

    private static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }
}
