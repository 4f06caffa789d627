import TaplineCapture
import TaplineWire

/// Moves JSON values between the capture reader's model (`CaptureJSONValue`, what
/// `extension` lines hold) and the exporters' (`JSONValue`) by walking the tree: no
/// text is written and parsed again, so `show` reading a flow's recorded HAR entry
/// costs one pass over it.
///
/// Numbers convert exactly as a trip through JSON text would: a capture `integer`
/// becomes its decimal digits, a `double` Swift's shortest round-trip spelling (the
/// text `CaptureJSONValue.jsonText` writes, so `1e3` read from a capture comes back as
/// `1000.0`); a `JSONValue` number literal is read by `CaptureJSONParser` itself, the
/// one owner of the capture's number rules (an integer that fits `Int64`, else a
/// finite `Double`; an out-of-range literal makes the value unconvertible).
extension JSONValue {
    /// The capture form of this value, for an `extension` line; nil when it is nested
    /// too deeply for the reader to take that line back (the line's object is one
    /// level more than `CaptureJSONParser.defaultMaxDepth` allows for the value) or a
    /// number is not one the capture can hold.
    var captureValue: CaptureJSONValue? {
        Self.capture(self, enclosingContainers: 0, maxDepth: CaptureJSONParser.defaultMaxDepth - 1)
    }

    /// The value a capture `extension` line held.
    init(capture value: CaptureJSONValue) {
        switch value {
        case .null: self = .null
        case .bool(let flag): self = .bool(flag)
        case .integer(let number): self = .number(String(number))
        case .double(let number): self = .number(number.description)
        case .string(let text): self = .string(text)
        case .array(let elements): self = .array(elements.map(JSONValue.init(capture:)))
        case .object(let members): self = .object(members.map { JSONMember($0.key, JSONValue(capture: $0.value)) })
        }
    }

    /// `value` inside `enclosingContainers` arrays and objects; a container is taken
    /// while fewer than `maxDepth` enclose it, as `CaptureJSONParser` counts depth.
    private static func capture(_ value: JSONValue, enclosingContainers: Int, maxDepth: Int) -> CaptureJSONValue? {
        switch value {
        case .null: return .null
        case .bool(let flag): return .bool(flag)
        case .string(let text): return .string(text)
        case .number(let literal):
            switch try? CaptureJSONParser.parse(Array(literal.utf8)) {
            case .integer(let number): return .integer(number)
            case .double(let number): return .double(number)
            default: return nil
            }
        case .array(let elements):
            guard enclosingContainers < maxDepth else { return nil }
            var converted: [CaptureJSONValue] = []
            converted.reserveCapacity(elements.count)
            for element in elements {
                guard let item = capture(element, enclosingContainers: enclosingContainers + 1, maxDepth: maxDepth) else {
                    return nil
                }
                converted.append(item)
            }
            return .array(converted)
        case .object(let members):
            guard enclosingContainers < maxDepth else { return nil }
            var converted: [(key: String, value: CaptureJSONValue)] = []
            converted.reserveCapacity(members.count)
            for member in members {
                guard let item = capture(member.value, enclosingContainers: enclosingContainers + 1, maxDepth: maxDepth) else {
                    return nil
                }
                converted.append((member.key, item))
            }
            return .object(converted)
        }
    }
}
