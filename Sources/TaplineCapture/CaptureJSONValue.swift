/// One JSON value as the capture reader's parser (`CaptureJSONParser`) returns it.
///
/// Invariants (guaranteed by the parser, assumed by the reader):
/// - `integer` holds every number written without a fraction or exponent that fits
///   in `Int64` (`-0` is `integer(0)`); every other number is a finite `double`
///   (never NaN or infinity: numbers that overflow `Double` are rejected).
/// - Strings and keys are valid Unicode: escapes are decoded, surrogate pairs joined.
/// - `object` keeps its members in document order, duplicates included; readers
///   that look a key up take its **last** occurrence (as JSONSerialization did).
///   Capture lines have about a dozen keys, so a linear scan beats a hash table.
///
/// Equality is structural: members must match in order, numbers by case and value.
/// A value type, `Sendable`, safe to share between threads.
public enum CaptureJSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    case double(Double)
    case string(String)
    case array([CaptureJSONValue])
    case object([(key: String, value: CaptureJSONValue)])

    public static func == (lhs: CaptureJSONValue, rhs: CaptureJSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.integer(let a), .integer(let b)): return a == b
        // Bit patterns, so that -0.0 and 0.0 differ (a round trip must keep the sign).
        case (.double(let a), .double(let b)): return a.bitPattern == b.bitPattern
        // Scalars, not Character equivalence: "é" precomposed is not "e" + U+0301.
        case (.string(let a), .string(let b)): return a.unicodeScalars.elementsEqual(b.unicodeScalars)
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { left, right in
                left.key.unicodeScalars.elementsEqual(right.key.unicodeScalars) && left.value == right.value
            }
        default: return false
        }
    }

    /// The value as compact JSON text (no whitespace, members in order, strings escaped
    /// as `JSONLineBuilder` escapes them, doubles in Swift's shortest round-trip form).
    /// Parsing the text again gives an equal value.
    public var jsonText: String {
        var builder = JSONLineBuilder(capacity: 256)
        write(to: &builder)
        return builder.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    }

    /// Appends the value's compact JSON text to `builder` (as `jsonText` spells it).
    func write(to builder: inout JSONLineBuilder) {
        switch self {
        case .null: builder.null()
        case .bool(let value): builder.bool(value)
        case .integer(let value): builder.integer(value)
        case .double(let value):
            // `description` of a finite Double is valid JSON: "1.0", "1e-05", "-0.0", "1e+20".
            // raw() leaves the builder's comma state alone: the key or element() before
            // this value already set it.
            var text = value.description
            text.withUTF8 { builder.raw(UnsafeRawBufferPointer($0)) }
        case .string(let value): builder.string(value)
        case .array(let elements):
            builder.beginArray()
            for element in elements {
                builder.element()
                element.write(to: &builder)
            }
            builder.endArray()
        case .object(let members):
            builder.beginObject()
            for member in members {
                builder.key(dynamic: member.key)
                member.value.write(to: &builder)
            }
            builder.endObject()
        }
    }

    // MARK: - Typed views (nil when the value has another type)

    var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// An integer, or a double with an integral value inside Int64 (`1.0`, `1e3`).
    var int64Value: Int64? {
        switch self {
        case .integer(let value): return value
        case .double(let value) where value.rounded() == value && abs(value) < 9.2e18: return Int64(value)
        default: return nil
        }
    }

    var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    var arrayValue: [CaptureJSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}
