import TaplineWire

/// JSON text for `--json` output: every object's keys sorted (by their UTF-8 bytes; a
/// key given twice keeps its first value), so scripts and diffs see a stable shape.
/// Written by the project's `JSONWriter`: pretty-printed with two spaces for `text`, one
/// line for `line`.
enum ShowJSON {
    static func text(_ value: JSONValue) -> String {
        JSONWriter.text(sorted(value))
    }

    /// Compact, on one line (the live flow log's `--log-format json`).
    static func line(_ value: JSONValue) -> String {
        JSONWriter.text(sorted(value), indent: nil)
    }

    /// `value` with every object's members in key order, duplicates after the first dropped.
    static func sorted(_ value: JSONValue) -> JSONValue {
        switch value {
        case .array(let elements):
            return .array(elements.map(sorted))
        case .object(let members):
            // In key order, a repeated key after its first place: then each run of one key
            // keeps its first member.
            let order = members.indices.sorted { left, right in
                let (a, b) = (members[left].key, members[right].key)
                return a == b ? left < right : a.utf8.lexicographicallyPrecedes(b.utf8)
            }
            var result: [JSONMember] = []
            result.reserveCapacity(members.count)
            for index in order where result.last?.key != members[index].key {
                result.append(JSONMember(members[index].key, sorted(members[index].value)))
            }
            return .object(result)
        default:
            return value
        }
    }
}
