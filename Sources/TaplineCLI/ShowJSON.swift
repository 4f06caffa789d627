import Foundation
import TaplineWire

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

    /// `value` as the Foundation objects `text` takes (a number literal becomes an
    /// integer when it is one that fits 64 bits, else a double), for the parts of
    /// `--json` output built as `JSONValue` (a gRPC call's view).
    static func foundationObject(_ value: JSONValue) -> Any {
        switch value {
        case .null: return NSNull()
        case .bool(let flag): return flag
        case .number(let text): return Int64(text).map { $0 as Any } ?? (Double(text) ?? 0) as Any
        case .string(let text): return text
        case .array(let items): return items.map(foundationObject)
        case .object(let members):
            var object: [String: Any] = [:]
            for member in members where object[member.key] == nil { object[member.key] = foundationObject(member.value) }
            return object
        }
    }
}
