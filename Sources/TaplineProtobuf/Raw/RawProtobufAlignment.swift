import TaplineWire

/// Lines up two schemaless decodes (`RawProtobufJSON`) of what may be one message written
/// two ways, or one message type with a repeated field that occurs a different number of
/// times, before they are compared. Without a schema:
/// - a packed repeated varint field (one length-delimited value, rendered as a string or
///   `{"bytes": …}`) and the same field unpacked (one varint per element, rendered as a
///   number or an array of numbers) look different. Where one side has the packed form and
///   the other the unpacked form under the same field number, and the packed bytes read
///   wholly as varints, the packed side is rewritten as the unpacked one (a number for one
///   element, else an array);
/// - a field that occurs once is a value and one that occurs more often an array. Where
///   one side has an array and the other a single value under the same field number, the
///   single value becomes a one-element array, so that the comparison finds the elements
///   added or removed (`/1/1`) rather than the whole field changed (`/1`).
///
/// Only varints are unpacked: packed fixed32/fixed64 stay as they are. Embedded messages
/// (objects) are aligned member by member, repeated ones element by element. Pure; stateless.
public enum RawProtobufAlignment {
    /// `a` and `b`, each with its packed fields unpacked where the other side has them
    /// unpacked, and a single value made a one-element array where the other side has an array.
    public static func aligned(_ a: JSONValue, _ b: JSONValue) -> (JSONValue, JSONValue) {
        switch (a, b) {
        case (.object(let left), .object(let right)):
            var newLeft = left
            var newRight = right
            for (leftIndex, member) in left.enumerated() {
                guard let rightIndex = right.firstIndex(where: { $0.key == member.key }) else { continue }
                let (x, y) = alignedField(member.value, right[rightIndex].value)
                newLeft[leftIndex] = JSONMember(member.key, x)
                newRight[rightIndex] = JSONMember(right[rightIndex].key, y)
            }
            return (.object(newLeft), .object(newRight))
        case (.array(let left), .array(let right)):
            var newLeft = left
            var newRight = right
            for index in 0..<min(left.count, right.count) {
                (newLeft[index], newRight[index]) = aligned(left[index], right[index])
            }
            return (.array(newLeft), .array(newRight))
        default:
            return (a, b)
        }
    }

    /// One field's values on each side.
    private static func alignedField(_ a: JSONValue, _ b: JSONValue) -> (JSONValue, JSONValue) {
        var (a, b) = (a, b)
        if isUnpackedVarints(b), let unpacked = unpackedVarints(a) {
            a = unpacked
        } else if isUnpackedVarints(a), let unpacked = unpackedVarints(b) {
            b = unpacked
        }
        switch (a, b) {
        case (.array, .array): break
        case (.array, _): b = .array([b])
        case (_, .array): a = .array([a])
        default: break
        }
        return aligned(a, b)
    }

    private static func isUnpackedVarints(_ value: JSONValue) -> Bool {
        switch value {
        case .number: return true
        case .array(let elements): return elements.allSatisfy { if case .number = $0 { return true } else { return false } }
        default: return false
        }
    }

    /// A packed value (a string, or `{"bytes": base64}`) read as varints, rendered as
    /// `RawProtobufJSON` renders unpacked ones; nil when it is not packed varints.
    private static func unpackedVarints(_ value: JSONValue) -> JSONValue? {
        let bytes: [UInt8]
        switch value {
        case .string(let text):
            bytes = Array(text.utf8)
        case .object(let members):
            guard members.count == 1, members[0].key == "bytes", case .string(let text) = members[0].value,
                  let decoded = Base64.decode(text) else { return nil }
            bytes = decoded
        default:
            return nil
        }
        guard !bytes.isEmpty else { return nil }
        var reader = ProtobufWireReader(bytes)
        var numbers: [JSONValue] = []
        while !reader.isAtEnd {
            guard let number = try? reader.readVarint() else { return nil }
            numbers.append(number <= 1 << 53 ? .integer(number) : .string(String(number)))
        }
        return numbers.count == 1 ? numbers[0] : .array(numbers)
    }
}
