/// A strict RFC 8259 JSON parser for the capture reader (events.jsonl lines and
/// session.json), working on raw bytes with an index: no Foundation, no
/// intermediate `Data` or `String` except the strings the text contains.
///
/// Accepts exactly one JSON text (any value, not only objects), with the four JSON
/// whitespace bytes around it, and one leading UTF-8 byte order mark, which
/// RFC 8259 §8.1 allows a parser to ignore (an editor may add one to session.json).
///
/// Rejects, with the byte offset and a `CaptureJSONParseError.Reason`:
/// - anything after the value but whitespace; truncated texts;
/// - trailing commas, single quotes, comments, unquoted keys, `NaN`, `Infinity`, `+1`;
/// - numbers with leading zeros (`01`), without digits after `.` or `e`, and numbers
///   too large for a `Double` (`1e400`; tiny ones like `1e-400` read as 0);
/// - raw control characters (below 0x20) inside strings, unknown escapes, `\u`
///   without four hex digits;
/// - **lone surrogates**: a `\uD800`-`\uDBFF` escape not followed by a
///   `\uDC00`-`\uDFFF` escape, or a low one on its own, is rejected, not replaced
///   (it is no character; JSONSerialization rejected it too, and Tapline never writes one);
/// - bytes that are not UTF-8 (RFC 3629: no overlongs, no encoded surrogates,
///   nothing above U+10FFFF);
/// - more than `maxDepth` (default 64) nested arrays and objects, so a hostile file
///   cannot exhaust the stack (the parser recurses once per level).
///
/// Numbers without fraction or exponent that fit in Int64 become `.integer`, all
/// others `.double` (see `CaptureJSONValue`); duplicate keys are kept in order.
///
/// Thread ownership: none shared. A parser exists only inside one `parse` call, on
/// the caller's thread, and reads the caller's buffer only during that call.
public struct CaptureJSONParser {
    /// The default limit on nested arrays and objects (events.jsonl lines use 3).
    public static let defaultMaxDepth = 64

    private let base: UnsafePointer<UInt8>
    private let count: Int
    private let maxDepth: Int
    /// The next byte to read; `count` at the end.
    private var index = 0
    private var depth = 0
    /// Decoded bytes of a string with escapes (reused between strings).
    private var scratch: [UInt8] = []
    /// Strings handed out as they are rather than made again.
    private let known = CaptureJSONKnownStrings.shared

    private init(base: UnsafePointer<UInt8>, count: Int, maxDepth: Int) {
        self.base = base
        self.count = count
        self.maxDepth = maxDepth
    }

    // MARK: - Entry points

    /// Parses `bytes` as one complete JSON text.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>,
                             maxDepth: Int = defaultMaxDepth) throws(CaptureJSONParseError) -> CaptureJSONValue {
        guard let base = bytes.baseAddress, !bytes.isEmpty else {
            throw CaptureJSONParseError(offset: 0, reason: .unexpectedEnd)
        }
        var parser = CaptureJSONParser(base: base, count: bytes.count, maxDepth: maxDepth)
        return try parser.parseText()
    }

    /// Parses `bytes` as one complete JSON text (read as UInt8, whatever they were bound to).
    public static func parse(_ bytes: UnsafeRawBufferPointer,
                             maxDepth: Int = defaultMaxDepth) throws(CaptureJSONParseError) -> CaptureJSONValue {
        try parse(UnsafeBufferPointer(start: bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), count: bytes.count),
                  maxDepth: maxDepth)
    }

    /// Parses `bytes` as one complete JSON text (offsets count from `bytes.startIndex`).
    public static func parse(_ bytes: ArraySlice<UInt8>,
                             maxDepth: Int = defaultMaxDepth) throws(CaptureJSONParseError) -> CaptureJSONValue {
        try bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(CaptureJSONParseError) in try parse(buffer, maxDepth: maxDepth) }
        }.get()
    }

    /// Parses `bytes` as one complete JSON text.
    public static func parse(_ bytes: [UInt8],
                             maxDepth: Int = defaultMaxDepth) throws(CaptureJSONParseError) -> CaptureJSONValue {
        try parse(bytes[...], maxDepth: maxDepth)
    }

    // MARK: - Grammar

    private mutating func parseText() throws(CaptureJSONParseError) -> CaptureJSONValue {
        if count >= 3 && base[0] == 0xEF && base[1] == 0xBB && base[2] == 0xBF { index = 3 }
        let value = try parseValue()
        skipWhitespace()
        guard index == count else { throw fail(.trailingData(base[index])) }
        return value
    }

    private mutating func parseValue() throws(CaptureJSONParseError) -> CaptureJSONValue {
        skipWhitespace()
        guard index < count else { throw fail(.unexpectedEnd) }
        switch base[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        case let byte: throw fail(.invalidValueStart(byte))
        }
    }

    /// At `{`.
    private mutating func parseObject() throws(CaptureJSONParseError) -> CaptureJSONValue {
        try enterContainer()
        index += 1
        skipWhitespace()
        guard index < count else { throw fail(.unexpectedEnd) }
        if base[index] == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return .object([])
        }
        // Capture lines have up to about a dozen keys, nested objects a few: one
        // allocation for most objects instead of growing 1, 2, 4, 8, 16.
        var members: [(key: String, value: CaptureJSONValue)] = []
        members.reserveCapacity(depth == 1 ? 12 : 4)
        while true {
            guard index < count else { throw fail(.unexpectedEnd) }
            let quote = base[index]
            guard quote == UInt8(ascii: "\"") else {
                // A "}" here follows a comma: the empty object returned above.
                throw fail(quote == UInt8(ascii: "}") ? .trailingComma : .expectedKey(quote))
            }
            let key = try parseString()
            skipWhitespace()
            guard index < count else { throw fail(.unexpectedEnd) }
            guard base[index] == UInt8(ascii: ":") else { throw fail(.expectedColon(base[index])) }
            index += 1
            let value = try parseValue()
            members.append((key, value))
            skipWhitespace()
            guard index < count else { throw fail(.unexpectedEnd) }
            let next = base[index]
            if next == UInt8(ascii: "}") {
                index += 1
                break
            }
            guard next == UInt8(ascii: ",") else { throw fail(.expectedCommaOrClose(found: next, close: UInt8(ascii: "}"))) }
            index += 1
            skipWhitespace()
        }
        depth -= 1
        return .object(members)
    }

    /// At `[`.
    private mutating func parseArray() throws(CaptureJSONParseError) -> CaptureJSONValue {
        try enterContainer()
        index += 1
        skipWhitespace()
        guard index < count else { throw fail(.unexpectedEnd) }
        if base[index] == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return .array([])
        }
        // Header lists have a few pairs, pairs two elements.
        var elements: [CaptureJSONValue] = []
        elements.reserveCapacity(4)
        while true {
            // A "]" here follows a comma: the empty array returned above.
            if index < count && base[index] == UInt8(ascii: "]") { throw fail(.trailingComma) }
            let element = try parseValue()
            elements.append(element)
            skipWhitespace()
            guard index < count else { throw fail(.unexpectedEnd) }
            let next = base[index]
            if next == UInt8(ascii: "]") {
                index += 1
                break
            }
            guard next == UInt8(ascii: ",") else { throw fail(.expectedCommaOrClose(found: next, close: UInt8(ascii: "]"))) }
            index += 1
            skipWhitespace()
        }
        depth -= 1
        return .array(elements)
    }

    @inline(__always)
    private mutating func enterContainer() throws(CaptureJSONParseError) {
        guard depth < maxDepth else { throw fail(.tooDeep(limit: maxDepth)) }
        depth += 1
    }

    /// At the literal's first byte.
    private mutating func expectLiteral(_ literal: StaticString) throws(CaptureJSONParseError) {
        let start = index
        let length = literal.utf8CodeUnitCount
        let text = literal.utf8Start
        for offset in 0..<length {
            guard start + offset < count else { throw fail(.unexpectedEnd, at: count) }
            guard base[start + offset] == text[offset] else { throw fail(.invalidLiteral, at: start) }
        }
        index = start + length
    }

    /// At `-` or a digit. Integers are accumulated without creating a String; only a
    /// number with a fraction or exponent (or beyond Int64) goes through `Double(_:)`.
    private mutating func parseNumber() throws(CaptureJSONParseError) -> CaptureJSONValue {
        let start = index
        let negative = base[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        guard index < count else { throw fail(.unexpectedEnd) }
        var magnitude: UInt64 = 0
        var overflow = false
        let first = base[index]
        if first == UInt8(ascii: "0") {
            index += 1
            if index < count && Self.isDigit(base[index]) { throw fail(.leadingZero, at: start) }
        } else if Self.isDigit(first) {
            while index < count && Self.isDigit(base[index]) {
                let (times10, carry1) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, carry2) = times10.addingReportingOverflow(UInt64(base[index] &- UInt8(ascii: "0")))
                if carry1 || carry2 { overflow = true } else { magnitude = sum }
                index += 1
            }
        } else {
            throw fail(.invalidNumber, at: start)
        }
        var isInteger = true
        if index < count && base[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            try skipDigits(numberStart: start)
        }
        if index < count && (base[index] == UInt8(ascii: "e") || base[index] == UInt8(ascii: "E")) {
            isInteger = false
            index += 1
            if index < count && (base[index] == UInt8(ascii: "+") || base[index] == UInt8(ascii: "-")) { index += 1 }
            try skipDigits(numberStart: start)
        }
        if isInteger && !overflow {
            if !negative && magnitude <= UInt64(Int64.max) { return .integer(Int64(magnitude)) }
            if negative && magnitude <= UInt64(Int64.max) { return .integer(-Int64(magnitude)) }
            if negative && magnitude == UInt64(Int64.max) + 1 { return .integer(Int64.min) }
        }
        let text = String(decoding: UnsafeBufferPointer(start: base + start, count: index - start), as: UTF8.self)
        guard let value = Double(text), value.isFinite else { throw fail(.numberOutOfRange, at: start) }
        return .double(value)
    }

    /// One or more digits (after `.` or an exponent).
    private mutating func skipDigits(numberStart: Int) throws(CaptureJSONParseError) {
        guard index < count else { throw fail(.unexpectedEnd) }
        guard Self.isDigit(base[index]) else { throw fail(.invalidNumber, at: numberStart) }
        while index < count && Self.isDigit(base[index]) { index += 1 }
    }

    @inline(__always)
    private static func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

    /// At the opening quote; returns after the closing one. A string without escapes
    /// (the common case) becomes a String straight from the input bytes; only a string
    /// with a byte >= 0x80 is validated as UTF-8 first (ASCII needs no check).
    private mutating func parseString() throws(CaptureJSONParseError) -> String {
        index += 1
        let start = index
        var highBits: UInt8 = 0
        while index < count {
            let byte = base[index]
            if byte == UInt8(ascii: "\"") {
                if highBits & 0x80 != 0, let bad = firstInvalidUTF8(from: start, to: index) {
                    throw fail(.invalidUTF8, at: bad)
                }
                let string = known.string(base + start, count: index - start)
                    ?? String(decoding: UnsafeBufferPointer(start: base + start, count: index - start), as: UTF8.self)
                index += 1
                return string
            }
            if byte == UInt8(ascii: "\\") { return try parseEscapedString(start: start) }
            if byte < 0x20 { throw fail(.controlCharacterInString(byte)) }
            highBits |= byte
            index += 1
        }
        throw fail(.unexpectedEnd)
    }

    /// At the first backslash of a string that started at `start`: decodes into
    /// `scratch`. Escapes are ASCII in the input and produce only complete UTF-8
    /// sequences, so checking the raw input bytes once covers the decoded string too.
    private mutating func parseEscapedString(start: Int) throws(CaptureJSONParseError) -> String {
        scratch.removeAll(keepingCapacity: true)
        var runStart = start
        while index < count {
            let byte = base[index]
            if byte == UInt8(ascii: "\"") {
                if let bad = firstInvalidUTF8(from: start, to: index) { throw fail(.invalidUTF8, at: bad) }
                appendRun(from: runStart)
                index += 1
                return String(decoding: scratch, as: UTF8.self)
            }
            if byte < 0x20 { throw fail(.controlCharacterInString(byte)) }
            guard byte == UInt8(ascii: "\\") else {
                index += 1
                continue
            }
            appendRun(from: runStart)
            try decodeEscape()
            runStart = index
        }
        throw fail(.unexpectedEnd)
    }

    @inline(__always)
    private mutating func appendRun(from runStart: Int) {
        if runStart < index { scratch.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: index - runStart)) }
    }

    /// At a backslash: appends the escaped character's UTF-8 to `scratch`.
    private mutating func decodeEscape() throws(CaptureJSONParseError) {
        let escapeStart = index
        index += 1
        guard index < count else { throw fail(.unexpectedEnd) }
        let kind = base[index]
        index += 1
        if let byte = Self.singleCharacterEscape(kind) {
            scratch.append(byte)
            return
        }
        switch kind {
        case UInt8(ascii: "u"):
            let unit = try hex4(escapeStart: escapeStart)
            var scalar = unit
            if unit >= 0xD800 && unit <= 0xDBFF {
                guard index < count else { throw fail(.unexpectedEnd) }
                guard base[index] == UInt8(ascii: "\\") else { throw fail(.loneSurrogate, at: escapeStart) }
                guard index + 1 < count else { throw fail(.unexpectedEnd, at: count) }
                guard base[index + 1] == UInt8(ascii: "u") else { throw fail(.loneSurrogate, at: escapeStart) }
                let lowStart = index
                index += 2
                let low = try hex4(escapeStart: lowStart)
                guard low >= 0xDC00 && low <= 0xDFFF else { throw fail(.loneSurrogate, at: escapeStart) }
                scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
            } else if unit >= 0xDC00 && unit <= 0xDFFF {
                throw fail(.loneSurrogate, at: escapeStart)
            }
            appendUTF8(scalar)
        default:
            throw fail(.invalidEscape(kind), at: escapeStart)
        }
    }

    /// What the escape `\byte` stands for when it is one of JSON's single-character
    /// escapes (`\" \\ \/ \b \f \n \r \t`); nil for `\u` and anything else.
    @inline(__always)
    static func singleCharacterEscape(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): return byte
        case UInt8(ascii: "b"): return 0x08
        case UInt8(ascii: "f"): return 0x0C
        case UInt8(ascii: "n"): return 0x0A
        case UInt8(ascii: "r"): return 0x0D
        case UInt8(ascii: "t"): return 0x09
        default: return nil
        }
    }

    /// Four hex digits after `\u`.
    private mutating func hex4(escapeStart: Int) throws(CaptureJSONParseError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard index < count else { throw fail(.unexpectedEnd) }
            let byte = base[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw fail(.invalidUnicodeEscape, at: escapeStart)
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// Appends a Unicode scalar value (not a surrogate, at most 0x10FFFF) as UTF-8.
    private mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case 0..<0x80:
            scratch.append(UInt8(scalar))
        case 0x80..<0x800:
            scratch.append(0xC0 | UInt8(scalar >> 6))
            scratch.append(0x80 | UInt8(scalar & 0x3F))
        case 0x800..<0x10000:
            scratch.append(0xE0 | UInt8(scalar >> 12))
            scratch.append(0x80 | UInt8(scalar >> 6 & 0x3F))
            scratch.append(0x80 | UInt8(scalar & 0x3F))
        default:
            scratch.append(0xF0 | UInt8(scalar >> 18))
            scratch.append(0x80 | UInt8(scalar >> 12 & 0x3F))
            scratch.append(0x80 | UInt8(scalar >> 6 & 0x3F))
            scratch.append(0x80 | UInt8(scalar & 0x3F))
        }
    }

    /// Skips space, tab, line feed and carriage return (the only JSON whitespace).
    @inline(__always)
    private mutating func skipWhitespace() {
        while index < count {
            let byte = base[index]
            guard byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 else { return }
            index += 1
        }
    }

    // MARK: - Errors

    private func fail(_ reason: CaptureJSONParseError.Reason, at offset: Int? = nil) -> CaptureJSONParseError {
        CaptureJSONParseError(offset: offset ?? index, reason: reason)
    }

    /// The offset of the first byte in `start ..< end` that cannot continue valid
    /// UTF-8 (RFC 3629: no overlong forms, no encoded surrogates, nothing above
    /// U+10FFFF), `end` when the last sequence is cut short, nil when all is valid.
    private func firstInvalidUTF8(from start: Int, to end: Int) -> Int? {
        var position = start
        while position < end {
            let lead = base[position]
            if lead < 0x80 {
                position += 1
                continue
            }
            // Continuation bytes needed, and the allowed range of the first one.
            let needed: Int
            var lower: UInt8 = 0x80
            var upper: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: needed = 1
            case 0xE0: needed = 2; lower = 0xA0
            case 0xE1...0xEC, 0xEE, 0xEF: needed = 2
            case 0xED: needed = 2; upper = 0x9F
            case 0xF0: needed = 3; lower = 0x90
            case 0xF1...0xF3: needed = 3
            case 0xF4: needed = 3; upper = 0x8F
            default: return position
            }
            position += 1
            for _ in 0..<needed {
                guard position < end else { return end }
                let byte = base[position]
                guard byte >= lower && byte <= upper else { return position }
                lower = 0x80
                upper = 0xBF
                position += 1
            }
        }
        return nil
    }
}
