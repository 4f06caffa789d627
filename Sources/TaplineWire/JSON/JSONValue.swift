/// A JSON value that keeps object members in the order they were written or
/// parsed, so documents Tapline writes (collections, HAR) come out in a fixed,
/// human-chosen key order and JSON bodies are pretty-printed without
/// reordering their keys.
///
/// Numbers keep their literal text (`1.50` stays `1.50`), so re-serializing a
/// parsed document changes only whitespace. A value type.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The number's JSON text, e.g. `-1.5e3`.
    case number(String)
    case string(String)
    case array([JSONValue])
    /// Members in order; duplicate keys are kept as written (lookups see the first).
    case object([JSONMember])

    public static func integer<T: BinaryInteger>(_ value: T) -> JSONValue { .number(String(value)) }

    /// A number in its shortest text that reads back as the same `Double` (`0.594`,
    /// `1e-05`), a whole one without `.0`; null when it is not finite (JSON has no NaN).
    public static func double(_ value: Double) -> JSONValue {
        guard value.isFinite else { return .null }
        if value == value.rounded() && abs(value) < 1e15 { return .number(String(Int64(value))) }
        return .number(String(value))
    }

    /// A number with at most three decimals, without a trailing `.0` (HAR timings).
    public static func milliseconds(_ value: Double) -> JSONValue {
        let rounded = (value * 1000).rounded() / 1000
        if rounded == rounded.rounded() && abs(rounded) < 1e15 { return .number(String(Int64(rounded))) }
        return .number(String(rounded))
    }

    /// The first member named `key` of an object; nil for other values.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    public var objectMembers: [JSONMember]? {
        if case .object(let members) = self { return members }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let flag) = self { return flag }
        return nil
    }

    /// The number as a Double (also accepts numeric strings, which some HAR writers use).
    public var doubleValue: Double? {
        switch self {
        case .number(let text): return Double(text)
        case .string(let text): return Double(text)
        default: return nil
        }
    }

    public var isNull: Bool { self == .null }
}
