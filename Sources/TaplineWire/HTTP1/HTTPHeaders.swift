/// An ordered list of HTTP header fields, kept exactly as received.
///
/// Invariants: field order and the case of names are preserved as on the wire
/// (captures must show what really passed); lookups compare names
/// case-insensitively (RFC 9110 §5.1). Values carry no leading or trailing
/// whitespace. A value type: safe to send across threads.
public struct HTTPHeaders: Sendable, Equatable, Sequence {
    public typealias Field = (name: String, value: String)

    /// The fields in wire order.
    public private(set) var fields: [Field]

    public init(_ fields: [Field] = []) {
        self.fields = fields
    }

    public var count: Int { fields.count }

    /// Reserves room for `capacity` fields (parsers call this before filling a section).
    public mutating func reserveCapacity(_ capacity: Int) {
        fields.reserveCapacity(capacity)
    }
    public var isEmpty: Bool { fields.isEmpty }

    public func makeIterator() -> IndexingIterator<[Field]> {
        fields.makeIterator()
    }

    /// Appends a field at the end, keeping any existing fields of the same name.
    public mutating func add(name: String, value: String) {
        fields.append((name, value))
    }

    /// Replaces every field named `name` with one field, placed where the first one was
    /// (or at the end when there was none).
    public mutating func replaceOrAdd(name: String, value: String) {
        if let first = fields.firstIndex(where: { Self.namesEqual($0.name, name) }) {
            fields[first] = (fields[first].name, value)
            var index = fields.count - 1
            while index > first {
                if Self.namesEqual(fields[index].name, name) { fields.remove(at: index) }
                index -= 1
            }
        } else {
            fields.append((name, value))
        }
    }

    /// Removes every field named `name` (case-insensitively).
    public mutating func remove(name: String) {
        fields.removeAll { Self.namesEqual($0.name, name) }
    }

    /// The value of the first field named `name`, if any.
    public func first(name: String) -> String? {
        guard let index = firstIndex(name: name) else { return nil }
        return fields[index].value
    }

    /// The position in `fields` of the first field named `name`, if any.
    private func firstIndex(name: String) -> Int? {
        name.withUTF8Bytes { wanted in
            fields.withUnsafeBufferPointer { fields in
                for index in fields.indices where Self.nameEquals(fields[index].name, wanted) { return index }
                return nil
            }
        }
    }

    /// The values of every field named `name`, in order.
    public func values(name: String) -> [String] {
        name.withUTF8Bytes { wanted in
            fields.withUnsafeBufferPointer { fields in
                var values: [String] = []
                for index in fields.indices where Self.nameEquals(fields[index].name, wanted) {
                    values.append(fields[index].value)
                }
                return values
            }
        }
    }

    public func contains(name: String) -> Bool {
        firstIndex(name: name) != nil
    }

    /// The comma-separated tokens of every field named `name`, lowercased
    /// (for list-valued fields such as `Connection` and `Transfer-Encoding`).
    public func tokens(name: String) -> [String] {
        var result: [String] = []
        for field in fields where Self.namesEqual(field.name, name) {
            Self.forEachToken(in: field.value) { token in
                result.append(String(decoding: token.lazy.map(Self.asciiLowercased), as: UTF8.self))
                return true
            }
        }
        return result
    }

    /// True if any field named `name` lists `token` (ASCII case-insensitive),
    /// e.g. `containsToken("close", inField: "Connection")`. Allocates nothing.
    public func containsToken(_ token: String, inField name: String) -> Bool {
        for field in fields where Self.namesEqual(field.name, name) {
            var found = false
            Self.forEachToken(in: field.value) { candidate in
                found = Self.bytesEqualIgnoringCase(candidate, token)
                return !found
            }
            if found { return true }
        }
        return false
    }

    /// Calls `body` with the bytes of each non-empty, whitespace-trimmed,
    /// comma-separated token of `value`, until it returns false.
    private static func forEachToken(in value: String, _ body: (UnsafeBufferPointer<UInt8>.SubSequence) -> Bool) {
        value.withUTF8Bytes { bytes in
            var start = 0
            while start <= bytes.count {
                var end = start
                while end < bytes.count, bytes[end] != UInt8(ascii: ",") { end += 1 }
                var lower = start, upper = end
                while lower < upper, bytes[lower] == 0x20 || bytes[lower] == 0x09 { lower += 1 }
                while upper > lower, bytes[upper - 1] == 0x20 || bytes[upper - 1] == 0x09 { upper -= 1 }
                if lower < upper, !body(bytes[lower..<upper]) { return }
                start = end + 1
            }
        }
    }

    @inline(__always)
    private static func asciiLowercased(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
    }

    private static func bytesEqualIgnoringCase(_ bytes: UnsafeBufferPointer<UInt8>.SubSequence, _ text: String) -> Bool {
        text.withUTF8Bytes { other in
            guard other.count == bytes.count else { return false }
            var index = bytes.startIndex
            for byte in other {
                if asciiLowercased(byte) != asciiLowercased(bytes[index]) { return false }
                index += 1
            }
            return true
        }
    }

    public static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
        lhs.fields.count == rhs.fields.count
            && zip(lhs.fields, rhs.fields).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    /// ASCII case-insensitive comparison of two field names.
    public static func namesEqual(_ a: String, _ b: String) -> Bool {
        b.withUTF8Bytes { nameEquals(a, $0) }
    }

    /// `name` equals the bytes `other` ASCII case-insensitively (length checked first,
    /// so most mismatches cost one comparison). Borrows `name`'s bytes, copies nothing.
    @inline(__always)
    static func nameEquals(_ name: String, _ other: UnsafeBufferPointer<UInt8>) -> Bool {
        guard name.utf8.count == other.count else { return false }
        return name.withUTF8Bytes { bytes in
            for index in 0..<bytes.count {
                let c = bytes[index], d = other[index]
                if c == d { continue }
                let lower = c | 0x20
                if lower != (d | 0x20) || lower < 0x61 || lower > 0x7A { return false }
            }
            return true
        }
    }
}

extension Substring {
    /// This substring without leading and trailing spaces and horizontal tabs.
    func trimmingASCIIWhitespace() -> Substring {
        var s = self[...]
        while let c = s.first, c == " " || c == "\t" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" { s = s.dropLast() }
        return s
    }
}
