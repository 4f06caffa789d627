/// The type of a protobuf field. Message and enum types carry the referenced type's
/// full name without a leading dot (`shop.v1.Order.Item`).
public enum ProtoFieldType: Sendable, Equatable {
    case double, float, int64, uint64, int32, fixed64, fixed32, bool, string, bytes
    case uint32, sfixed32, sfixed64, sint32, sint64
    case message(String)
    case `enum`(String)
    /// A type name as written in the file, before `ProtoSchema` resolves it to
    /// `.message` or `.enum`. Never present in a `ProtoSchema`'s files.
    case named(String)

    /// The scalar type a `.proto` keyword names (`int32`, `bytes`, ...); nil for any other word.
    public init?(keyword: String) {
        switch keyword {
        case "double": self = .double
        case "float": self = .float
        case "int64": self = .int64
        case "uint64": self = .uint64
        case "int32": self = .int32
        case "fixed64": self = .fixed64
        case "fixed32": self = .fixed32
        case "bool": self = .bool
        case "string": self = .string
        case "bytes": self = .bytes
        case "uint32": self = .uint32
        case "sfixed32": self = .sfixed32
        case "sfixed64": self = .sfixed64
        case "sint32": self = .sint32
        case "sint64": self = .sint64
        default: return nil
        }
    }

    /// The `.proto` spelling: a scalar keyword, or the referenced type's full name.
    public var name: String {
        switch self {
        case .double: "double"
        case .float: "float"
        case .int64: "int64"
        case .uint64: "uint64"
        case .int32: "int32"
        case .fixed64: "fixed64"
        case .fixed32: "fixed32"
        case .bool: "bool"
        case .string: "string"
        case .bytes: "bytes"
        case .uint32: "uint32"
        case .sfixed32: "sfixed32"
        case .sfixed64: "sfixed64"
        case .sint32: "sint32"
        case .sint64: "sint64"
        case .message(let name), .enum(let name), .named(let name): name
        }
    }

    /// Whether repeated fields of this type may be packed: every scalar but string and bytes, and enums.
    public var isPackable: Bool {
        switch self {
        case .string, .bytes, .message, .named: false
        default: true
        }
    }
}
