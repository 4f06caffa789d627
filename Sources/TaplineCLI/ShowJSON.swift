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
            var seen = Set<String>()
            let unique = members.filter { seen.insert($0.key).inserted }
            return .object(unique.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
                .map { JSONMember($0.key, sorted($0.value)) })
        default:
            return value
        }
    }
}
