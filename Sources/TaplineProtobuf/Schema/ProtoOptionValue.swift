import Foundation

/// The value of an option (`option x = VALUE;`, `[x = VALUE]`), as the parser reads it.
/// Tapline interprets only the options it models (`deprecated`, `packed`, `default`,
/// `json_name`, `allow_alias`); the rest are parsed and dropped.
enum ProtoOptionValue: Equatable {
    /// A word: `true`, `SPEED`, `inf`; `negative` for `-inf`.
    case identifier(String, negative: Bool)
    /// An integer literal as written, with its sign.
    case integer(String, negative: Bool)
    /// A float literal as written, with its sign.
    case float(String, negative: Bool)
    /// Adjacent string literals, concatenated and unescaped.
    case string([UInt8])
    /// A `{ ... }` text-format aggregate (custom options only); skipped.
    case aggregate

    /// `true` or `false`, or nil for anything else.
    var bool: Bool? {
        switch self {
        case .identifier("true", false): true
        case .identifier("false", false): false
        default: nil
        }
    }

    /// The value as protoc writes a field's `default_value`, or a message saying why it does not fit `type`.
    func defaultValueText(for type: ProtoFieldType) -> Result<String, DefaultValueMismatch> {
        switch (type, self) {
        case (.bool, _):
            guard let bool else { return .failure(DefaultValueMismatch("expected `true` or `false`")) }
            return .success(bool ? "true" : "false")
        case (.string, .string(let bytes)):
            return .success(String(decoding: bytes, as: UTF8.self))
        case (.bytes, .string(let bytes)):
            return .success(Self.cEscaped(bytes))
        case (.named, .identifier(let name, false)), (.enum, .identifier(let name, false)):
            return .success(name)
        case (.int32, .integer(let text, let negative)), (.sint32, .integer(let text, let negative)),
             (.sfixed32, .integer(let text, let negative)):
            return Self.integerText(text, negative: negative, range: Int64(Int32.min)...Int64(Int32.max))
        case (.int64, .integer(let text, let negative)), (.sint64, .integer(let text, let negative)),
             (.sfixed64, .integer(let text, let negative)):
            return Self.integerText(text, negative: negative, range: Int64.min...Int64.max)
        case (.uint32, .integer(let text, false)), (.fixed32, .integer(let text, false)):
            return Self.integerText(text, negative: false, range: 0...Int64(UInt32.max))
        case (.uint64, .integer(let text, false)), (.fixed64, .integer(let text, false)):
            guard let magnitude = Self.unsignedValue(text) else { return .failure(DefaultValueMismatch("integer out of range")) }
            return .success(String(magnitude))
        case (.double, _), (.float, _):
            guard let value = floatValue else { return .failure(DefaultValueMismatch("expected a number")) }
            return .success(Self.shortestText(value, single: type == .float))
        case (.message, _):
            return .failure(DefaultValueMismatch("messages cannot have default values"))
        default:
            return .failure(DefaultValueMismatch("expected a default value of type \(type.name)"))
        }
    }

    /// Why a `default` does not fit its field.
    struct DefaultValueMismatch: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }

    private var floatValue: Double? {
        switch self {
        case .integer(let text, let negative):
            guard let magnitude = Self.unsignedValue(text) else { return Double(text).map { negative ? -$0 : $0 } }
            return negative ? -Double(magnitude) : Double(magnitude)
        case .float(let text, let negative):
            guard let value = Double(text) else { return nil }
            return negative ? -value : value
        case .identifier(let word, let negative):
            switch word.lowercased() {
            case "inf", "infinity": return negative ? -.infinity : .infinity
            case "nan": return .nan
            default: return nil
            }
        default:
            return nil
        }
    }

    /// An integer literal's magnitude: decimal, `0x` hex or leading-`0` octal.
    static func unsignedValue(_ text: String) -> UInt64? {
        if text.hasPrefix("0x") || text.hasPrefix("0X") { return UInt64(text.dropFirst(2), radix: 16) }
        if text.count > 1, text.hasPrefix("0") { return UInt64(text.dropFirst(), radix: 8) }
        return UInt64(text)
    }

    private static func integerText(_ text: String, negative: Bool, range: ClosedRange<Int64>) -> Result<String, DefaultValueMismatch> {
        guard let magnitude = unsignedValue(text) else { return .failure(DefaultValueMismatch("integer out of range")) }
        let value: Int64?
        if negative {
            value = magnitude <= UInt64(Int64.max) ? -Int64(magnitude) : (magnitude == UInt64(Int64.max) + 1 ? Int64.min : nil)
        } else {
            value = magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil
        }
        guard let value, range.contains(value) else { return .failure(DefaultValueMismatch("integer out of range")) }
        return .success(String(value))
    }

    /// protoc's SimpleDtoa/SimpleFtoa: `%g` with the fewest digits that read back the same value.
    private static func shortestText(_ value: Double, single: Bool) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        if single {
            let float = Float(value)
            let short = String(format: "%.6g", Double(float))
            return Float(short) == float ? short : String(format: "%.9g", Double(float))
        }
        let short = String(format: "%.15g", value)
        return Double(short) == value ? short : String(format: "%.17g", value)
    }

    /// protoc's CEscape: C escapes for quotes, backslash and `\n \r \t`, three-digit octal for other non-printables.
    static func cEscaped(_ bytes: [UInt8]) -> String {
        var result = ""
        for byte in bytes {
            switch byte {
            case 0x0A: result += "\\n"
            case 0x0D: result += "\\r"
            case 0x09: result += "\\t"
            case UInt8(ascii: "\""): result += "\\\""
            case UInt8(ascii: "'"): result += "\\'"
            case UInt8(ascii: "\\"): result += "\\\\"
            case 0x20..<0x7F: result.append(Character(UnicodeScalar(byte)))
            default:
                let octal = String(byte, radix: 8)
                result += "\\" + String(repeating: "0", count: 3 - octal.count) + octal
            }
        }
        return result
    }
}
