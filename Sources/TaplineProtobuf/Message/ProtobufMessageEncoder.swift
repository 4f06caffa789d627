/// Encodes a `ProtobufMessageValue` in protobuf wire format with its schema: the inverse
/// of `ProtobufMessageDecoder`, written as protobuf's own serializers write: declared
/// fields in field-number order (a field without presence at its zero value left out, but
/// a map entry's key and value always written), repeated packable fields packed when the field is
/// (`ProtoField.isPacked`), then the unknown fields as they were read.
///
/// The value must fit its schema (as `ProtobufMessageDecoder` and `ProtobufJSONReader`
/// make them); a value of another case than the field's type is skipped. Immutable; safe
/// to share between threads.
public struct ProtobufMessageEncoder: Sendable {
    public let schema: ProtoSchema

    public init(schema: ProtoSchema) {
        self.schema = schema
    }

    public func encode(_ message: ProtobufMessageValue) -> [UInt8] {
        var writer = ProtobufWireWriter()
        encode(message, into: &writer)
        return writer.bytes
    }

    private func encode(_ message: ProtobufMessageValue, into writer: inout ProtobufWireWriter) {
        if let descriptor = schema.message(named: message.typeName) {
            for field in descriptor.fields.sorted(by: { $0.number < $1.number }) {
                guard let values = message.fields[field.number], !values.isEmpty else { continue }
                if field.cardinality != .repeated, !field.tracksPresence, !descriptor.isMapEntry, values.last?.isZero == true {
                    continue
                }
                let number = UInt32(field.number)
                if field.cardinality == .repeated, field.isPacked {
                    var packed = ProtobufWireWriter()
                    for value in values { writeScalar(value, of: field.type, into: &packed) }
                    writer.writeLengthDelimitedField(number, packed.bytes)
                    continue
                }
                for value in values {
                    writer.writeTag(ProtobufFieldTag(fieldNumber: number, wireType: ProtobufMessageDecoder.wireType(of: field.type)))
                    if case .message(let nested) = value {
                        writer.writeLengthDelimited(encode(nested))
                    } else {
                        writeScalar(value, of: field.type, into: &writer)
                    }
                }
            }
        }
        writer.writeRaw(RawProtobufMessage(fields: message.unknownFields).encoded())
    }

    /// Writes a non-message value without its tag.
    private func writeScalar(_ value: ProtobufValue, of type: ProtoFieldType, into writer: inout ProtobufWireWriter) {
        switch (type, value) {
        case (.int64, .signed(let number)), (.int32, .signed(let number)):
            writer.writeVarint(UInt64(bitPattern: number))
        case (.sint64, .signed(let number)):
            writer.writeVarint(ProtobufZigZag.encode(number))
        case (.sint32, .signed(let number)):
            writer.writeVarint(UInt64(ProtobufZigZag.encode(Int32(truncatingIfNeeded: number))))
        case (.sfixed64, .signed(let number)):
            writer.writeFixed64(UInt64(bitPattern: number))
        case (.sfixed32, .signed(let number)):
            writer.writeFixed32(UInt32(bitPattern: Int32(truncatingIfNeeded: number)))
        case (.uint64, .unsigned(let number)), (.uint32, .unsigned(let number)):
            writer.writeVarint(number)
        case (.fixed64, .unsigned(let number)):
            writer.writeFixed64(number)
        case (.fixed32, .unsigned(let number)):
            writer.writeFixed32(UInt32(truncatingIfNeeded: number))
        case (.double, .double(let number)):
            writer.writeFixed64(number.bitPattern)
        case (.float, .float(let number)):
            writer.writeFixed32(number.bitPattern)
        case (.bool, .bool(let flag)):
            writer.writeVarint(flag ? 1 : 0)
        case (.enum, .enumNumber(let number)):
            writer.writeVarint(UInt64(bitPattern: Int64(number)))
        case (.string, .string(let text)):
            writer.writeLengthDelimited(Array(text.utf8))
        case (.bytes, .bytes(let bytes)):
            writer.writeLengthDelimited(bytes)
        default:
            assertionFailure("a \(value) value does not fit a field of type \(type.name)")
        }
    }
}
