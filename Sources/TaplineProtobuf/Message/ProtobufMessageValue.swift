/// A protobuf message decoded with its schema: the values of the fields its descriptor
/// (`ProtoMessage`) declares, by field number, and every field it does not declare kept
/// by number with its raw value (`unknownFields`), so nothing on the wire is lost.
///
/// Invariants: a singular field holds exactly one value, a repeated or map field one or
/// more (a map field's values are its `XxxEntry` messages, in wire order); a field that was
/// not on the wire (or, in JSON, was omitted or null) has no entry. At most one member of
/// each real oneof is present. A value type, usable from any thread.
public struct ProtobufMessageValue: Sendable, Equatable {
    /// The full name of the message type, no leading dot (`shop.v1.Order`).
    public var typeName: String
    /// The present fields' values by field number.
    public var fields: [Int64: [ProtobufValue]]
    /// Fields whose numbers the descriptor does not declare, in wire order.
    public var unknownFields: [RawProtobufField]

    public init(typeName: String, fields: [Int64: [ProtobufValue]] = [:], unknownFields: [RawProtobufField] = []) {
        self.typeName = typeName
        self.fields = fields
        self.unknownFields = unknownFields
    }

    /// The single value of a present singular field.
    public subscript(number: Int64) -> ProtobufValue? { fields[number]?.last }
}
