/// A message type, as protoc's `DescriptorProto` describes it. A `map<K, V>` field
/// appears as protoc models it: a repeated field of a nested `XxxEntry` message
/// (`isMapEntry`) with fields `key` = 1 and `value` = 2.
public struct ProtoMessage: Sendable, Equatable {
    public var name: String
    /// Package and enclosing messages, dot-separated, no leading dot: `shop.v1.Order.Item`.
    public var fullName: String
    public var fields: [ProtoField] = []
    public var nestedMessages: [ProtoMessage] = []
    public var enums: [ProtoEnum] = []
    public var oneofs: [ProtoOneof] = []
    public var reservedRanges: [ProtoNumberRange] = []
    public var reservedNames: [String] = []
    /// `extensions` ranges (proto2); the extensions themselves are skipped.
    public var extensionRanges: [ProtoNumberRange] = []
    public var isMapEntry = false
    /// `option deprecated = ...;` as written; nil when not given.
    public var deprecated: Bool?
    public var location: ProtoSourceLocation

    public init(name: String, fullName: String, location: ProtoSourceLocation) {
        self.name = name
        self.fullName = fullName
        self.location = location
    }

    /// The field with this number, if any.
    public func field(number: Int64) -> ProtoField? { fields.first { $0.number == number } }
}
