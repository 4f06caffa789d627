import TaplineExport
import TaplineWire

/// Compares two JSON documents structurally and lists where they differ, with
/// RFC 6901 pointers: objects member by member (order ignored; of duplicate keys
/// the first counts, as for `JSONValue`'s lookups), arrays element by element
/// (an element only one side has is `added`/`removed` at its index), numbers by
/// value (`JSONNumberValue`), strings and member names by Unicode code point.
/// Locations matching an `ignoredPaths` pattern are skipped with all they contain.
///
/// Pure and linear in the documents' size (one pass, one dictionary per object).
/// A value type.
public struct JSONDiff: Sendable {
    public var ignoredPaths: [JSONPointerPattern]

    public init(ignoredPaths: [JSONPointerPattern] = []) {
        self.ignoredPaths = ignoredPaths
    }

    /// The differences from `a` to `b`, in document order (A's members first, then B's extra ones).
    public func changes(from a: JSONValue, to b: JSONValue) -> [JSONChange] {
        var found: [JSONChange] = []
        compare(a, b, at: .root, into: &found)
        return found
    }

    private func isIgnored(_ pointer: JSONPointer) -> Bool {
        !ignoredPaths.isEmpty && ignoredPaths.contains { $0.matches(pointer) }
    }

    private func compare(_ a: JSONValue, _ b: JSONValue, at pointer: JSONPointer, into found: inout [JSONChange]) {
        if isIgnored(pointer) { return }
        switch (a, b) {
        case (.object(let left), .object(let right)):
            compareMembers(left, right, at: pointer, into: &found)
        case (.array(let left), .array(let right)):
            for index in 0..<max(left.count, right.count) {
                let at = pointer.appending(index: index)
                if index >= right.count {
                    if !isIgnored(at) { found.append(JSONChange(pointer: at, kind: .removed, a: left[index], b: nil)) }
                } else if index >= left.count {
                    if !isIgnored(at) { found.append(JSONChange(pointer: at, kind: .added, a: nil, b: right[index])) }
                } else {
                    compare(left[index], right[index], at: at, into: &found)
                }
            }
        default:
            if !Self.scalarsEqual(a, b) {
                found.append(JSONChange(pointer: pointer, kind: .changed, a: a, b: b))
            }
        }
    }

    private func compareMembers(_ left: [JSONMember], _ right: [JSONMember], at pointer: JSONPointer,
                                into found: inout [JSONChange]) {
        // Keyed by the name's UTF-8 bytes: Swift's String equality would match
        // canonically equivalent but different names ("é" precomposed or not).
        var rightByName: [[UInt8]: JSONValue] = [:]
        rightByName.reserveCapacity(right.count)
        for member in right where rightByName[Array(member.key.utf8)] == nil {
            rightByName[Array(member.key.utf8)] = member.value
        }
        var leftNames: Set<[UInt8]> = []
        leftNames.reserveCapacity(left.count)
        for member in left {
            let name = Array(member.key.utf8)
            guard leftNames.insert(name).inserted else { continue }
            let at = pointer.appending(member.key)
            if let other = rightByName[name] {
                compare(member.value, other, at: at, into: &found)
            } else if !isIgnored(at) {
                found.append(JSONChange(pointer: at, kind: .removed, a: member.value, b: nil))
            }
        }
        var reported: Set<[UInt8]> = []
        for member in right {
            let name = Array(member.key.utf8)
            guard !leftNames.contains(name), reported.insert(name).inserted else { continue }
            let at = pointer.appending(member.key)
            if !isIgnored(at) { found.append(JSONChange(pointer: at, kind: .added, a: nil, b: member.value)) }
        }
    }

    /// Equality of two values that are not both objects or both arrays.
    private static func scalarsEqual(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x), .number(let y)): return JSONNumberValue.equal(x, y)
        case (.string(let x), .string(let y)): return x.unicodeScalars.elementsEqual(y.unicodeScalars)
        default: return false
        }
    }
}
