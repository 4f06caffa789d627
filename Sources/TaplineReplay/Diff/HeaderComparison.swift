import Foundation
import TaplineWire

/// The rules for comparing two header (or trailer) sections: names
/// case-insensitive, field order ignored, repeated fields kept as multisets of
/// values; `ignoredNames` are skipped; `Set-Cookie` compares the cookie names it
/// sets, not their values (which are usually session-specific). Pure. A value type.
public struct HeaderComparison: Sendable {
    /// Lowercased names never compared.
    public var ignoredNames: Set<String> {
        didSet { ignoredNameBytes = Self.utf8(ignoredNames) }
    }
    /// `ignoredNames`' bytes, for `isIgnored` (kept with them).
    private var ignoredNameBytes: [[UInt8]]

    /// Fields that differ between any two recordings of the same exchange (issue #23's list), and
    /// `Sec-WebSocket-Accept`, a hash of the client's random `Sec-WebSocket-Key` (RFC 6455 §4.2.2).
    public static let defaultIgnoredNames: Set<String> = ["date", "server", "content-length", "etag", "age", "x-request-id",
                                                           "sec-websocket-accept"]

    public init(ignoredNames: Set<String> = HeaderComparison.defaultIgnoredNames) {
        self.ignoredNames = Set(ignoredNames.map { $0.lowercased() })
        ignoredNameBytes = Self.utf8(self.ignoredNames)
    }

    private static func utf8(_ names: Set<String>) -> [[UInt8]] {
        names.map { Array($0.utf8) }
    }

    /// The fields that differ, ordered by name.
    public func differences(_ a: HTTPHeaders, _ b: HTTPHeaders) -> [FieldDifference] {
        if sameFieldsInOrder(a, b) { return [] }
        return FieldDifference.multisetDifferences(comparedFields(a), comparedFields(b))
    }

    /// Whether `a` and `b` have the same names in the same order and the same values but
    /// in ignored fields: then no field differs (the common case of a replay), decided on
    /// the bytes, without a `String` per field. False says nothing.
    ///
    /// A list's names and values lie back to back, so a run of fields whose names and
    /// values have the same lengths on both sides lines up byte for byte: the run is
    /// compared a word at a time (`firstDifference`), and each difference found must lie
    /// in the value of an ignored field (a replay's `Date`), after which the comparison
    /// resumes past that field. A field whose value length differs ends the run; its
    /// names must be the same bytes and ignored.
    private func sameFieldsInOrder(_ a: HTTPHeaders, _ b: HTTPHeaders) -> Bool {
        guard a.count == b.count else { return false }
        return a.withUnsafeFieldBytes { left in
            b.withUnsafeFieldBytes { right in
                let count = left.count
                var field = 0
                // Where field `field` starts in each list's bytes.
                var startA = 0
                var startB = 0
                while field < count {
                    var end = field
                    var length = 0
                    while end < count {
                        let nameLength = left.name(end).count
                        let valueLength = left.value(end).count
                        guard nameLength == right.name(end).count, valueLength == right.value(end).count else { break }
                        length += nameLength + valueLength
                        end += 1
                    }
                    if length > 0, let bytesA = left.bytes.baseAddress, let bytesB = right.bytes.baseAddress {
                        // Run bytes before `checked` are equal or in an ignored value; `current`
                        // is the run's first field not yet passed, starting at `currentStart`.
                        var checked = 0
                        var current = field
                        var currentStart = 0
                        while let difference = Self.firstDifference(bytesA + startA + checked, bytesB + startB + checked,
                                                                    count: length - checked) {
                            let at = checked + difference
                            var nameEnd = currentStart + left.name(current).count
                            var valueEnd = nameEnd + left.value(current).count
                            while valueEnd <= at {
                                current += 1
                                currentStart = valueEnd
                                nameEnd = currentStart + left.name(current).count
                                valueEnd = nameEnd + left.value(current).count
                            }
                            guard at >= nameEnd, isIgnored(left.name(current)) else { return false }
                            checked = valueEnd
                            current += 1
                            currentStart = valueEnd
                        }
                    }
                    startA += length
                    startB += length
                    field = end
                    guard field < count else { break }
                    // Same name length (or not: then false), a value of another length.
                    let name = left.name(field)
                    guard name.sameBytes(as: right.name(field)), isIgnored(name) else { return false }
                    startA += name.count + left.value(field).count
                    startB += name.count + right.value(field).count
                    field += 1
                }
                return true
            }
        }
    }

    /// The offset of the first byte at which `a` and `b` differ in their first `count`
    /// bytes, if any: eight bytes at a time, the last (partial) word read overlapping
    /// the one before (the bytes before it are equal then, so the first difference in
    /// it is the first of all).
    private static func firstDifference(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, count: Int) -> Int? {
        guard count >= 8 else {
            for index in 0..<max(count, 0) where a[index] != b[index] { return index }
            return nil
        }
        let left = UnsafeRawPointer(a)
        let right = UnsafeRawPointer(b)
        var offset = 0
        while true {
            let word = UInt64(littleEndian: left.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                ^ UInt64(littleEndian: right.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            if word != 0 { return offset + word.trailingZeroBitCount >> 3 }
            if offset == count - 8 { return nil }
            offset = min(offset + 8, count - 8)
        }
    }

    /// Whether a field named `name` is not compared: `ignoredNames` holds it lowercased.
    /// An ASCII name (every valid one) is matched on its bytes, without a lowercased
    /// `String` and a hash per differing field (a replay's `Date` differs in every flow).
    private func isIgnored(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        guard name.allSatisfy({ $0 < 0x80 }) else { return ignoredNames.contains(HTTPHeaders.string(name).lowercased()) }
        for ignored in ignoredNameBytes where ignored.count == name.count {
            // `ignored` is lowercase: equal ignoring case is equal once `name` is lowercased.
            if ignored.withUnsafeBufferPointer({ HTTPHeaders.bytesEqualIgnoringCase(name, $0) }) { return true }
        }
        return false
    }

    /// The fields that take part, names lowercased, `Set-Cookie` values reduced to the cookie's name.
    private func comparedFields(_ headers: HTTPHeaders) -> [(name: String, value: String)] {
        headers.compactMap { name, value in
            let lowered = name.lowercased()
            guard !ignoredNames.contains(lowered) else { return nil }
            return (lowered, lowered == "set-cookie" ? Self.cookieName(value) : value)
        }
    }

    /// `id=abc; Path=/` -> `id=…`: the cookie a `Set-Cookie` sets, without its value.
    static func cookieName(_ value: String) -> String {
        let pair = value.prefix { $0 != ";" }
        guard let equals = pair.firstIndex(of: "=") else { return String(pair) }
        return pair[..<equals].trimmingCharacters(in: .whitespaces) + "=…"
    }
}
