/// An ordered list of HTTP header fields, kept exactly as received.
///
/// Storage: one `HTTPHeaderStorage` object holding two end offsets per field and
/// every field's name and then its value, back to back in wire order (none for an
/// empty list). A received head (an HTTP/1 section or an HTTP/2 block) is copied in
/// once and can be forwarded, handed to nghttp2 and written to the capture from
/// those bytes (`withUnsafeFieldBytes`) without a `String` per field; `String`s are
/// made only for what is inspected (`first(name:)`, iteration).
///
/// Invariants: field order and the bytes of names and values are preserved as on
/// the wire (captures must show what really passed; a value that is not UTF-8 is
/// forwarded unchanged and becomes U+FFFD only where a `String` is made). Lookups
/// compare names ASCII case-insensitively (RFC 9110 §5.1). Values carry no leading
/// or trailing whitespace (the parsers trim). Two lists are equal exactly when
/// their fields' bytes and boundaries are. A value type: its storage is written
/// only while uniquely referenced (copy-on-write) and never once shared, so a list
/// is safe to send across threads (hence `@unchecked`: `ManagedBuffer`, which the
/// storage is, cannot be declared `Sendable`).
public struct HTTPHeaders: @unchecked Sendable, Equatable, Sequence {
    public typealias Field = (name: String, value: String)

    /// nil for an empty list that never reserved room. Internal only so that the
    /// `@inlinable` hot paths can reach it; written only while uniquely referenced.
    @usableFromInline var storage: HTTPHeaderStorage?

    public init(_ fields: [Field] = []) {
        guard !fields.isEmpty else { return }
        reserveCapacity(fields.count, bytes: fields.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count })
        for field in fields { add(name: field.name, value: field.value) }
    }

    @inlinable public var count: Int { (storage?.header.endCount ?? 0) >> 1 }

    @inlinable public var isEmpty: Bool { count == 0 }

    /// The bytes of all names and values together.
    @inlinable public var byteCount: Int { storage?.header.byteCount ?? 0 }

    /// A list from storage already in this type's layout (`HTTPHeadersBuilder.build`).
    init(bytes: UnsafeBufferPointer<UInt8>, ends: UnsafeBufferPointer<UInt32>) {
        guard !ends.isEmpty else { return }
        storage = HTTPHeaderStorage.make(copying: bytes, ends: ends)
    }

    /// A list of `fields` fields whose names and values `body` writes straight into the
    /// new storage, for a reader that has checked a list and copies it in once
    /// (`CaptureFlatLine.headers`) without `add`'s room check per field. `body` is given
    /// room for `bytes` bytes and for exactly `fields * 2` end offsets, in this type's
    /// layout (each field's name, then its value, back to back; per field where its
    /// name ends and where its value ends); it must initialize every end offset (never
    /// decreasing) and every byte before the last one, and return that last end offset
    /// (it may write, and leave, scratch bytes after it). `fields` 0 is the empty list
    /// (`body` is not called).
    public init(unsafeUninitializedFields fields: Int, bytes: Int,
                initializingWith body: (_ bytes: UnsafeMutablePointer<UInt8>, _ ends: UnsafeMutablePointer<UInt32>) -> Int) {
        guard fields > 0 else { return }
        precondition(bytes <= Int(UInt32.max), "a header list cannot hold 4 GiB")
        let storage = HTTPHeaderStorage.make(fields: fields, bytes: bytes)
        let layout = storage.header
        let byteCount = body(layout.bytes, layout.ends)
        precondition(byteCount <= layout.byteCapacity && Int(layout.ends[fields &* 2 &- 1]) == byteCount,
                     "the fields written overran the room given or do not end at the count returned")
        storage.setCounts(ends: fields &* 2, bytes: byteCount)
        self.storage = storage
    }

    /// Reserves room for `capacity` fields and `bytes` bytes of names and values
    /// (parsers call this before filling a section; 0 bytes means a typical 32 per field).
    public mutating func reserveCapacity(_ capacity: Int, bytes byteCount: Int = 0) {
        let bytes = byteCount > 0 ? byteCount : capacity * 32
        if isKnownUniquelyReferenced(&storage) {
            let counts = storage.unsafelyUnwrapped.header
            if counts.endCapacity >= capacity * 2 && counts.byteCapacity >= bytes { return }
        }
        storage = storage?.copy(fields: capacity, bytes: bytes) ?? HTTPHeaderStorage.make(fields: capacity, bytes: bytes)
    }

    /// Makes sure the storage is uniquely referenced and has room for `fields` more
    /// fields and `bytes` more bytes (copied or grown first when needed). Afterwards
    /// `storage` is not nil. (No storage reference is returned: a returned reference
    /// is a retain and a release on every field added.)
    @inlinable @inline(__always)
    mutating func makeWritable(addingFields fields: Int, bytes: Int) {
        if !isKnownUniquelyReferenced(&storage) || !storage.unsafelyUnwrapped.hasRoom(addingFields: fields, bytes: bytes) {
            makeRoom(addingFields: fields, bytes: bytes)
        }
    }

    /// `makeWritable`'s slow path: a new storage, twice as large when growing.
    @usableFromInline @inline(never)
    mutating func makeRoom(addingFields fields: Int, bytes: Int) {
        let fieldsNeeded = count + fields, bytesNeeded = byteCount + bytes
        precondition(bytesNeeded <= Int(UInt32.max), "a header list cannot hold 4 GiB")
        let grown: HTTPHeaderStorage
        if let storage {
            let counts = storage.header
            let growing = counts.endCount + fields * 2 > counts.endCapacity || counts.byteCount + bytes > counts.byteCapacity
            grown = growing
                ? storage.copy(fields: Swift.max(fieldsNeeded, counts.endCapacity), bytes: Swift.max(bytesNeeded, counts.byteCapacity * 2))
                : storage.copy(fields: counts.endCapacity / 2, bytes: counts.byteCapacity)
        } else {
            grown = HTTPHeaderStorage.make(fields: Swift.max(fieldsNeeded, 8), bytes: Swift.max(bytesNeeded, 256))
        }
        storage = grown
    }

    /// The fields as strings, in wire order (builds a `String` pair per field).
    public var fields: [Field] { Array(self) }

    public func makeIterator() -> Iterator {
        Iterator(self)
    }

    /// The name of field `index` (0 ..< count).
    public func name(at index: Int) -> String {
        withUnsafeFieldBytes { Self.string($0.name(index)) }
    }

    /// The value of field `index` (0 ..< count), decoded as UTF-8.
    public func value(at index: Int) -> String {
        withUnsafeFieldBytes { Self.string($0.value(index)) }
    }

    /// Calls `body` with a view of the fields' bytes (valid only inside `body`).
    @inlinable @inline(__always)
    public func withUnsafeFieldBytes<Result>(_ body: (HTTPHeaderFieldBytes) throws -> Result) rethrows -> Result {
        guard storage != nil else {
            return try body(HTTPHeaderFieldBytes(bytes: UnsafeBufferPointer(start: nil, count: 0),
                                                 ends: UnsafeBufferPointer(start: nil, count: 0)))
        }
        let layout = storage.unsafelyUnwrapped.header
        // The addresses are good while the storage lives: keep it past `body` (once
        // inlined, a temporary list could otherwise be released after its last use).
        defer { _fixLifetime(self) }
        return try body(HTTPHeaderFieldBytes(bytes: UnsafeBufferPointer(start: layout.bytes, count: layout.byteCount),
                                             ends: UnsafeBufferPointer(start: layout.ends, count: layout.endCount)))
    }

    /// Appends a field at the end, keeping any existing fields of the same name.
    public mutating func add(name: String, value: String) {
        name.withUTF8Bytes { name in
            value.withUTF8Bytes { value in add(name: name, value: value) }
        }
    }

    /// Appends a field whose name is a literal (its bytes read in place: only the
    /// value is a `String` to borrow from), keeping any existing fields of the same name.
    public mutating func add(literalName name: StaticString, value: String) {
        value.withUTF8Bytes { value in
            add(name: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount), value: value)
        }
    }

    /// Appends a field from its bytes (copied), keeping any existing fields of the same name.
    @inlinable @inline(__always)
    public mutating func add(name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) {
        makeWritable(addingFields: 1, bytes: name.count &+ value.count)
        HTTPHeaderStorage.append(name: name, value: value, to: storage.unsafelyUnwrapped.header)
    }

    /// Appends field `index` of `other` (bytes copied as they are).
    @inlinable
    public mutating func add(fieldAt index: Int, of other: HTTPHeaderFieldBytes) {
        add(name: other.name(index), value: other.value(index))
    }

    /// Appends the fields `range` of `other` (bytes copied as they are), all their
    /// bytes in one copy: for a run of fields forwarded unchanged, cheaper than one
    /// `add(fieldAt:of:)` each.
    @inlinable
    public mutating func add(fieldsIn range: Range<Int>, of other: HTTPHeaderFieldBytes) {
        guard !range.isEmpty else { return }
        precondition(range.lowerBound >= 0 && range.upperBound <= other.count, "fields out of range")
        let byteStart = range.lowerBound == 0 ? 0 : Int(other.ends[range.lowerBound &* 2 &- 1])
        let byteEnd = Int(other.ends[range.upperBound &* 2 &- 1])
        makeWritable(addingFields: range.count, bytes: byteEnd &- byteStart)
        HTTPHeaderStorage.append(fieldsIn: range, of: other, bytes: byteStart, byteEnd, to: storage.unsafelyUnwrapped.header)
    }

    /// Replaces every field named `name` with one field, placed where the first one was
    /// (or at the end when there was none).
    ///
    /// One match (Host in reverse mode, on every request) is replaced in place; only
    /// duplicates to drop make a new list.
    public mutating func replaceOrAdd(name: String, value: String) {
        guard let first = firstIndex(name: name) else {
            add(name: name, value: value)
            return
        }
        let hasDuplicates = withUnsafeFieldBytes { fields in
            name.withUTF8Bytes { wanted in
                (first + 1..<fields.count).contains { Self.bytesEqualIgnoringCase(fields.name($0), wanted) }
            }
        }
        guard hasDuplicates else {
            value.withUTF8Bytes { replaceValue(ofFieldAt: first, with: $0) }
            return
        }
        self = rebuilt { fields, index, out in
            if index == first {
                value.withUTF8Bytes { out.add(name: fields.name(index), value: $0) }
            } else if !fields.nameEquals(index, name) {
                out.add(fieldAt: index, of: fields)
            }
        }
    }

    /// Replaces the value of field `index` in place: the bytes after it move by the
    /// difference in length, and so do the later end offsets.
    private mutating func replaceValue(ofFieldAt index: Int, with value: UnsafeBufferPointer<UInt8>) {
        let (start, end) = withUnsafeFieldBytes { (Int($0.ends[index * 2]), Int($0.ends[index * 2 + 1])) }
        let shift = value.count - (end - start)
        makeWritable(addingFields: 0, bytes: Swift.max(0, shift))
        let storage = storage.unsafelyUnwrapped
        let layout = storage.header
        let bytes = layout.bytes, ends = layout.ends
        (bytes + start + value.count).update(from: bytes + end, count: layout.byteCount - end)  // overlapping: a memmove
        if let source = value.baseAddress { (bytes + start).update(from: source, count: value.count) }
        for offset in (index * 2 + 1)..<layout.endCount {
            ends[offset] = UInt32(truncatingIfNeeded: Int(ends[offset]) + shift)
        }
        storage.setCounts(ends: layout.endCount, bytes: layout.byteCount + shift)
    }

    /// Removes every field named `name` (case-insensitively).
    public mutating func remove(name: String) {
        guard firstIndex(name: name) != nil else { return }
        self = rebuilt { fields, index, out in
            if !fields.nameEquals(index, name) { out.add(fieldAt: index, of: fields) }
        }
    }

    /// A new list made by calling `copy` for every field index of this one.
    private func rebuilt(_ copy: (HTTPHeaderFieldBytes, Int, inout HTTPHeaders) -> Void) -> HTTPHeaders {
        var out = HTTPHeaders()
        out.reserveCapacity(count + 1, bytes: byteCount + 64)
        withUnsafeFieldBytes { fields in
            for index in 0..<fields.count { copy(fields, index, &out) }
        }
        return out
    }

    /// The value of the first field named `name`, if any.
    public func first(name: String) -> String? {
        withUnsafeFieldBytes { fields in
            fields.firstIndex(name: name).map { Self.string(fields.value($0)) }
        }
    }

    /// The position of the first field named `name`, if any.
    public func firstIndex(name: String) -> Int? {
        withUnsafeFieldBytes { $0.firstIndex(name: name) }
    }

    /// The values of every field named `name`, in order.
    public func values(name: String) -> [String] {
        withUnsafeFieldBytes { fields in
            name.withUTF8Bytes { wanted in
                var values: [String] = []
                for index in 0..<fields.count where Self.bytesEqualIgnoringCase(fields.name(index), wanted) {
                    values.append(Self.string(fields.value(index)))
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
        withUnsafeFieldBytes { fields in
            name.withUTF8Bytes { wanted in
                var result: [String] = []
                for index in 0..<fields.count where Self.bytesEqualIgnoringCase(fields.name(index), wanted) {
                    Self.forEachToken(in: fields.value(index)) { token in
                        result.append(String(decoding: token.lazy.map(HTTP1ByteClass.lower), as: UTF8.self))
                        return true
                    }
                }
                return result
            }
        }
    }

    /// True if any field named `name` lists `token` (ASCII case-insensitive),
    /// e.g. `containsToken("close", inField: "Connection")`. Allocates nothing.
    public func containsToken(_ token: String, inField name: String) -> Bool {
        withUnsafeFieldBytes { fields in
            name.withUTF8Bytes { name in
                token.withUTF8Bytes { token in
                    for index in 0..<fields.count where Self.bytesEqualIgnoringCase(fields.name(index), name) {
                        if Self.listsToken(fields.value(index), token) { return true }
                    }
                    return false
                }
            }
        }
    }

    /// True if the comma-separated list `value` (one field's value) has `token` as one of
    /// its tokens (ASCII case-insensitive). Allocates nothing.
    public static func listsToken(_ value: UnsafeBufferPointer<UInt8>, _ token: UnsafeBufferPointer<UInt8>) -> Bool {
        var found = false
        forEachToken(in: value) { candidate in
            found = bytesEqualIgnoringCase(UnsafeBufferPointer(rebasing: candidate), token)
            return !found
        }
        return found
    }

    /// Calls `body` with the bytes of each non-empty, whitespace-trimmed,
    /// comma-separated token of `bytes`, until it returns false.
    public static func forEachToken(in bytes: UnsafeBufferPointer<UInt8>,
                                    _ body: (UnsafeBufferPointer<UInt8>.SubSequence) -> Bool) {
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

    /// `bytes` decoded as UTF-8 (an invalid sequence becomes U+FFFD).
    @inlinable @inline(__always)
    public static func string(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        bytes.isEmpty ? "" : String(decoding: bytes, as: UTF8.self)
    }

    /// The same fields in the same order: names and values of the same bytes (names are
    /// not case-folded). The field boundaries and the bytes are each compared by one
    /// `memcmp` (`sameBytes`).
    public static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
        guard lhs.count == rhs.count, lhs.byteCount == rhs.byteCount else { return false }
        return lhs.withUnsafeFieldBytes { left in
            rhs.withUnsafeFieldBytes { right in
                left.ends.sameBytes(as: right.ends) && left.bytes.sameBytes(as: right.bytes)
            }
        }
    }

    /// ASCII case-insensitive comparison of two field names.
    public static func namesEqual(_ a: String, _ b: String) -> Bool {
        a.withUTF8Bytes { a in b.withUTF8Bytes { bytesEqualIgnoringCase(a, $0) } }
    }

    /// `bytes` equal the ASCII text `text` ASCII case-insensitively.
    @inlinable @inline(__always)
    public static func bytesEqualIgnoringCase(_ bytes: UnsafeBufferPointer<UInt8>, _ text: StaticString) -> Bool {
        bytes.count == text.utf8CodeUnitCount
            && bytesEqualIgnoringCase(bytes, UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// `a` equals `b` ASCII case-insensitively (length checked first, so most
    /// mismatches cost one comparison).
    @inlinable @inline(__always)
    public static func bytesEqualIgnoringCase(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        for index in 0..<a.count {
            let c = a[index], d = b[index]
            if c == d { continue }
            let lower = c | 0x20
            if lower != (d | 0x20) || lower < 0x61 || lower > 0x7A { return false }
        }
        return true
    }
}

extension Substring {
    /// This substring without leading and trailing spaces and horizontal tabs.
    public func trimmingASCIIWhitespace() -> Substring {
        var s = self[...]
        while let c = s.first, c == " " || c == "\t" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" { s = s.dropLast() }
        return s
    }
}
