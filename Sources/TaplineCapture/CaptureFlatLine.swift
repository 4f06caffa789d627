import TaplineWire

/// One events.jsonl line read directly into typed members, for the plain shape
/// nearly every line has: one object of members whose values are strings,
/// non-negative integers, `true`/`false`, lists of `[name, value]` string pairs
/// (headers, trailers), or objects of such scalars (`timings`, `error`), written
/// without whitespace. The pairs go straight into `HTTPHeaders` (their bytes, no
/// `String` per field) and no `CaptureJSONValue` tree is built for the line: that
/// tree, its header arrays of arrays and releasing them were most of the
/// instructions of reading a capture.
///
/// Anything else (`\u` escapes, non-ASCII bytes, control characters, whitespace,
/// deeper nesting such as `tls`'s `peer`, `null`, negative or fractional numbers,
/// other arrays, empty objects, any damage) makes `init` return nil, and the caller
/// reads the line with `CaptureJSONParser` instead. Invariant (`CaptureLineFields`):
/// for a line this reader takes, every accessor returns what `CaptureJSONObject`
/// returns for the parser's tree of the same line (duplicate keys: the last one), so
/// the reader chosen never changes a result. Every line it takes is valid JSON.
///
/// A value type; made and read on the caller's thread.
struct CaptureFlatLine: CaptureLineFields {
    private enum Member {
        case string(String)
        case integer(Int64)
        case bool(Bool)
        case pairs(HTTPHeaders)
        case object([(key: String, value: CaptureJSONValue)])
    }

    /// The members in line order.
    private var members: [(key: String, value: Member)] = []

    /// The line in `bytes` (no line terminator), or nil when it is not the plain
    /// shape described above.
    init?(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let base = bytes.baseAddress else { return nil }
        var reader = Reader(base: base, count: bytes.count)
        guard reader.take(UInt8(ascii: "{")) else { return nil }
        members.reserveCapacity(12)
        while true {
            guard let key = reader.string(), reader.take(UInt8(ascii: ":")), let value = reader.member() else { return nil }
            members.append((key, value))
            if reader.take(UInt8(ascii: ",")) { continue }
            guard reader.take(UInt8(ascii: "}")), reader.isAtEnd else { return nil }
            return
        }
    }

    // MARK: - CaptureLineFields

    private func member(_ key: String) -> Member? {
        var index = members.endIndex
        while index > members.startIndex {
            index -= 1
            if members[index].key == key { return members[index].value }
        }
        return nil
    }

    func value(_ key: String) -> CaptureJSONValue? {
        switch member(key) {
        case nil: return nil
        case .string(let value): return .string(value)
        case .integer(let value): return .integer(value)
        case .bool(let value): return .bool(value)
        case .pairs(let headers): return .array(Self.array(headers))
        case .object(let members): return .object(members)
        }
    }

    func string(_ key: String) -> String? {
        guard case .string(let value) = member(key) else { return nil }
        return value
    }

    func int64(_ key: String) -> Int64? {
        guard case .integer(let value) = member(key) else { return nil }
        return value
    }

    func uint64(_ key: String) -> UInt64? {
        // Integers here are never negative.
        guard case .integer(let value) = member(key) else { return nil }
        return UInt64(value)
    }

    func bool(_ key: String) -> Bool? {
        guard case .bool(let value) = member(key) else { return nil }
        return value
    }

    func object(_ key: String) -> CaptureJSONObject? {
        guard case .object(let members) = member(key) else { return nil }
        return CaptureJSONObject(members: members)
    }

    func array(_ key: String) -> [CaptureJSONValue]? {
        guard case .pairs(let headers) = member(key) else { return nil }
        return Self.array(headers)
    }

    func headers(_ key: String) -> HTTPHeaders? {
        guard case .pairs(let headers) = member(key) else { return nil }
        return headers
    }

    /// The pairs as the parser's tree has them.
    private static func array(_ headers: HTTPHeaders) -> [CaptureJSONValue] {
        headers.map { CaptureJSONValue.array([.string($0.name), .string($0.value)]) }
    }

    // MARK: - Reading

    /// A cursor over the line's bytes; every method returns nil or false, without a
    /// reason, where the line leaves the plain shape (the general parser then says why).
    private struct Reader {
        let base: UnsafePointer<UInt8>
        let count: Int
        var index = 0
        /// Decoded bytes of strings with escapes (reused).
        var scratch: [UInt8] = []

        init(base: UnsafePointer<UInt8>, count: Int) {
            self.base = base
            self.count = count
        }

        var isAtEnd: Bool { index == count }

        /// Consumes `byte` if it is next.
        @inline(__always)
        mutating func take(_ byte: UInt8) -> Bool {
            guard index < count, base[index] == byte else { return false }
            index += 1
            return true
        }

        /// A member's value.
        mutating func member() -> Member? {
            guard index < count else { return nil }
            switch base[index] {
            case UInt8(ascii: "{"): return object().map(Member.object)
            case UInt8(ascii: "["): return pairs().map(Member.pairs)
            case UInt8(ascii: "\""): return string().map(Member.string)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return integer().map(Member.integer)
            case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
            case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
            default: return nil
            }
        }

        /// A string, integer or boolean, as the parser's tree has it.
        mutating func scalar() -> CaptureJSONValue? {
            guard index < count else { return nil }
            switch base[index] {
            case UInt8(ascii: "\""): return string().map(CaptureJSONValue.string)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return integer().map(CaptureJSONValue.integer)
            case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
            case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
            default: return nil
            }
        }

        /// `{"key":scalar,...}` (not empty).
        mutating func object() -> [(key: String, value: CaptureJSONValue)]? {
            guard take(UInt8(ascii: "{")) else { return nil }
            var members: [(key: String, value: CaptureJSONValue)] = []
            members.reserveCapacity(4)
            while true {
                guard let key = string(), take(UInt8(ascii: ":")), let value = scalar() else { return nil }
                members.append((key, value))
                if take(UInt8(ascii: ",")) { continue }
                return take(UInt8(ascii: "}")) ? members : nil
            }
        }

        /// A string's raw bytes `start ..< end` (between the quotes; index after the
        /// closing one), and whether they hold escapes. Only printable ASCII and the
        /// escapes `\" \\ \/ \b \f \n \r \t` are taken.
        mutating func rawString() -> (start: Int, end: Int, escaped: Bool)? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = index
            var escaped = false
            while index < count {
                let byte = base[index]
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    return (start, index - 1, escaped)
                }
                guard byte >= 0x20, byte < 0x80 else { return nil }
                if byte == UInt8(ascii: "\\") {
                    guard index + 1 < count, CaptureJSONParser.singleCharacterEscape(base[index + 1]) != nil else { return nil }
                    escaped = true
                    index += 1
                }
                index += 1
            }
            return nil
        }

        /// Appends the decoded bytes of a string `rawString` accepted.
        mutating func decode(_ start: Int, _ end: Int) {
            var position = start
            while position < end {
                let byte = base[position]
                if byte == UInt8(ascii: "\\") {
                    scratch.append(CaptureJSONParser.singleCharacterEscape(base[position + 1]).unsafelyUnwrapped)
                    position += 2
                } else {
                    scratch.append(byte)
                    position += 1
                }
            }
        }

        /// A string, made as the parser makes it (a listed one is handed out).
        mutating func string() -> String? {
            guard let (start, end, escaped) = rawString() else { return nil }
            if escaped {
                scratch.removeAll(keepingCapacity: true)
                decode(start, end)
                return String(decoding: scratch, as: UTF8.self)
            }
            return CaptureJSONKnownStrings.shared.string(base + start, count: end - start)
                ?? String(decoding: UnsafeBufferPointer(start: base + start, count: end - start), as: UTF8.self)
        }

        /// A non-negative integer of at most 18 digits (so it fits `Int64`) without
        /// leading zeros; a fraction or exponent after it fails the caller's next check.
        mutating func integer() -> Int64? {
            let start = index
            var value: Int64 = 0
            while index < count, case let digit = base[index] &- UInt8(ascii: "0"), digit < 10 {
                value = value &* 10 &+ Int64(digit)
                index += 1
            }
            let digits = index - start
            guard digits <= 18, digits == 1 || base[start] != UInt8(ascii: "0") else { return nil }
            return value
        }

        mutating func literal(_ text: StaticString) -> Bool {
            let length = text.utf8CodeUnitCount
            guard count - index >= length else { return false }
            for offset in 0..<length where base[index + offset] != text.utf8Start[offset] { return false }
            index += length
            return true
        }

        /// `[]` or `[[string,string],...]`: checked and measured first (escaped bytes
        /// counted as written, at most two for one), then copied into a list of that size.
        mutating func pairs() -> HTTPHeaders? {
            let start = index
            var fields = 0
            var bytes = 0
            guard forEachPair({ name, value in
                fields += 1
                bytes += name.end - name.start + value.end - value.start
            }) else { return nil }
            var headers = HTTPHeaders()
            guard fields > 0 else { return headers }
            headers.reserveCapacity(fields, bytes: bytes)
            // Again, now that the list is known to be well formed.
            index = start + 1
            repeat {
                index += 1  // "["
                guard let name = rawString() else { return nil }
                index += 1  // ","
                guard let value = rawString() else { return nil }
                index += 1  // "]"
                if name.escaped || value.escaped {
                    scratch.removeAll(keepingCapacity: true)
                    decode(name.start, name.end)
                    let nameCount = scratch.count
                    decode(value.start, value.end)
                    scratch.withUnsafeBufferPointer { decoded in
                        headers.add(name: UnsafeBufferPointer(rebasing: decoded[..<nameCount]),
                                    value: UnsafeBufferPointer(rebasing: decoded[nameCount...]))
                    }
                } else {
                    headers.add(name: UnsafeBufferPointer(start: base + name.start, count: name.end - name.start),
                                value: UnsafeBufferPointer(start: base + value.start, count: value.end - value.start))
                }
            } while take(UInt8(ascii: ","))
            index += 1  // "]"
            return headers
        }

        /// Calls `body` with each pair's raw name and value (`rawString`); false when
        /// the list is not `[]` or `[[string,string],...]`.
        mutating func forEachPair(_ body: (_ name: (start: Int, end: Int, escaped: Bool),
                                           _ value: (start: Int, end: Int, escaped: Bool)) -> Void) -> Bool {
            guard take(UInt8(ascii: "[")) else { return false }
            if take(UInt8(ascii: "]")) { return true }
            while true {
                guard take(UInt8(ascii: "[")), let name = rawString(), take(UInt8(ascii: ",")),
                      let value = rawString(), take(UInt8(ascii: "]")) else { return false }
                body(name, value)
                if take(UInt8(ascii: ",")) { continue }
                return take(UInt8(ascii: "]"))
            }
        }
    }
}
