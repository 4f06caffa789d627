import Foundation

/// JSON text for `--json` output: pretty-printed with sorted keys, so scripts
/// and diffs see a stable shape.
enum ShowJSON {
    static func text(_ value: Any) -> String {
        guard JSONSerialization.isValidJSONObject(value),
              let data = try? JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) else {
            return "null"
        }
        return String(decoding: data, as: UTF8.self)
    }
}
