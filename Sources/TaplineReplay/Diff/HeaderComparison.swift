import Foundation
import TaplineWire

/// The rules for comparing two header (or trailer) sections: names
/// case-insensitive, field order ignored, repeated fields kept as multisets of
/// values; `ignoredNames` are skipped; `Set-Cookie` compares the cookie names it
/// sets, not their values (which are usually session-specific). Pure. A value type.
public struct HeaderComparison: Sendable {
    /// Lowercased names never compared.
    public var ignoredNames: Set<String>

    /// Fields that differ between any two recordings of the same exchange (issue #23's list), and
    /// `Sec-WebSocket-Accept`, a hash of the client's random `Sec-WebSocket-Key` (RFC 6455 §4.2.2).
    public static let defaultIgnoredNames: Set<String> = ["date", "server", "content-length", "etag", "age", "x-request-id",
                                                           "sec-websocket-accept"]

    public init(ignoredNames: Set<String> = HeaderComparison.defaultIgnoredNames) {
        self.ignoredNames = Set(ignoredNames.map { $0.lowercased() })
    }

    /// The fields that differ, ordered by name.
    public func differences(_ a: HTTPHeaders, _ b: HTTPHeaders) -> [FieldDifference] {
        if sameFieldsInOrder(a, b) { return [] }
        return FieldDifference.multisetDifferences(comparedFields(a), comparedFields(b))
    }

    /// Whether `a` and `b` have the same names in the same order and the same values but
    /// in ignored fields: then no field differs (the common case of a replay), decided on
    /// the bytes, without a `String` per field. False says nothing.
    private func sameFieldsInOrder(_ a: HTTPHeaders, _ b: HTTPHeaders) -> Bool {
        guard a.count == b.count else { return false }
        return a.withUnsafeFieldBytes { left in
            b.withUnsafeFieldBytes { right in
                for index in 0..<left.count {
                    let name = left.name(index)
                    guard name.sameBytes(as: right.name(index)) else { return false }
                    if !left.value(index).sameBytes(as: right.value(index)), !isIgnored(name) {
                        return false
                    }
                }
                return true
            }
        }
    }

    /// Whether a field named `name` is not compared: `ignoredNames` holds it lowercased.
    /// An ASCII name (every valid one) is matched on its bytes, without a lowercased
    /// `String` and a hash per differing field (a replay's `Date` differs in every flow).
    private func isIgnored(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        guard name.allSatisfy({ $0 < 0x80 }) else { return ignoredNames.contains(HTTPHeaders.string(name).lowercased()) }
        for ignored in ignoredNames where ignored.utf8.count == name.count {
            // `ignored` is lowercase: equal ignoring case is equal once `name` is lowercased.
            if ignored.withUTF8Bytes({ HTTPHeaders.bytesEqualIgnoringCase(name, $0) }) { return true }
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
