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
        fields.first { Self.namesEqual($0.name, name) }?.value
    }

    /// The values of every field named `name`, in order.
    public func values(name: String) -> [String] {
        fields.filter { Self.namesEqual($0.name, name) }.map(\.value)
    }

    public func contains(name: String) -> Bool {
        fields.contains { Self.namesEqual($0.name, name) }
    }

    /// The comma-separated tokens of every field named `name`, lowercased
    /// (for list-valued fields such as `Connection` and `Transfer-Encoding`).
    public func tokens(name: String) -> [String] {
        values(name: name).flatMap { value in
            value.split(separator: ",").map {
                $0.trimmingASCIIWhitespace().lowercased()
            }
        }.filter { !$0.isEmpty }
    }

    public static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
        lhs.fields.count == rhs.fields.count
            && zip(lhs.fields, rhs.fields).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    /// ASCII case-insensitive comparison of two field names.
    public static func namesEqual(_ a: String, _ b: String) -> Bool {
        let x = a.utf8, y = b.utf8
        guard x.count == y.count else { return false }
        for (c, d) in zip(x, y) where c != d {
            if (c | 0x20) != (d | 0x20) || !((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A) { return false }
        }
        return true
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
