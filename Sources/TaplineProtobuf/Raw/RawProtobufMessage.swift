/// A protobuf message decoded without a schema, like `protoc --decode_raw`: each field
/// by number and wire type, in wire order (a repeated field is several fields with one number).
///
/// Heuristic for length-delimited values (protoc's, text_format.cc `PrintUnknownFields`):
/// a non-empty value that parses wholly as a message is an embedded message; otherwise
/// it is a string (renderers: when valid UTF-8) or bytes. Short text often parses as a
/// message too ("hi" is field 13 = 105); protoc shows it that way, and so does Tapline.
///
/// Depth bound: length-delimited values are tried as messages down to `maxDepth` levels
/// below the top (protoc's limit is 10); deeper ones stay bytes. Groups nest at most
/// `ProtobufWireReader.defaultMaxGroupDepth` (100) levels at the top and at most the
/// remaining depth inside an embedded message (as protoc's parser limits them).
/// Decoding uses no recursion beyond these bounds, so no input exhausts the stack.
///
/// A value type, usable from any thread. Its length-delimited values are slices of the input.
public struct RawProtobufMessage: Equatable, Sendable {
    /// The default `maxDepth`: protoc's limit for `--decode_raw`.
    public static let protocDecodeRawDepth = 10

    public var fields: [RawProtobufField]

    public init(fields: [RawProtobufField]) {
        self.fields = fields
    }

    /// Decodes `bytes` wholly as a message.
    /// - Throws: the first `ProtobufWireError` at the top level (an embedded value that
    ///   does not parse is kept as bytes, not an error).
    public init(decoding bytes: ArraySlice<UInt8>, maxDepth: Int = protocDecodeRawDepth) throws(ProtobufWireError) {
        var reader = ProtobufWireReader(bytes)
        self = try Self.decode(&reader, depthBudget: maxDepth, closingGroup: nil, groupDepth: 0)
    }

    public init(decoding bytes: [UInt8], maxDepth: Int = protocDecodeRawDepth) throws(ProtobufWireError) {
        try self.init(decoding: bytes[...], maxDepth: maxDepth)
    }

    /// The message's fields in wire format. Tags and varints are written in their shortest
    /// form (so input that used longer ones encodes shorter); a length-delimited value is
    /// written as the bytes it was decoded from. Decoding the result gives an equal message.
    public func encoded() -> [UInt8] {
        var writer = ProtobufWireWriter()
        encode(into: &writer)
        return writer.bytes
    }

    private func encode(into writer: inout ProtobufWireWriter) {
        for field in fields {
            switch field.value {
            case .varint(let value):
                writer.writeVarintField(field.number, value)
            case .fixed32(let value):
                writer.writeTag(ProtobufFieldTag(fieldNumber: field.number, wireType: .fixed32))
                writer.writeFixed32(value)
            case .fixed64(let value):
                writer.writeTag(ProtobufFieldTag(fieldNumber: field.number, wireType: .fixed64))
                writer.writeFixed64(value)
            case .lengthDelimited(let bytes, _):
                writer.writeLengthDelimitedField(field.number, bytes)
            case .group(let message):
                writer.writeTag(ProtobufFieldTag(fieldNumber: field.number, wireType: .startGroup))
                message.encode(into: &writer)
                writer.writeTag(ProtobufFieldTag(fieldNumber: field.number, wireType: .endGroup))
            }
        }
    }

    /// Reads fields until the end of `reader` (at the top) or the end-group tag of
    /// `closingGroup`. `depthBudget` is how many more levels of embedded messages may be
    /// tried; `groupDepth` counts the groups open in this reader.
    private static func decode(_ reader: inout ProtobufWireReader, depthBudget: Int,
                               closingGroup: (number: UInt32, offset: Int)?,
                               groupDepth: Int) throws(ProtobufWireError) -> RawProtobufMessage {
        var fields: [RawProtobufField] = []
        while !reader.isAtEnd {
            let tag = try reader.readTag()
            let tagOffset = reader.lastTagOffset
            let value: RawProtobufValue
            switch tag.wireType {
            case .varint: value = .varint(try reader.readVarint())
            case .fixed32: value = .fixed32(try reader.readFixed32())
            case .fixed64: value = .fixed64(try reader.readFixed64())
            case .lengthDelimited:
                let bytes = try reader.readLengthDelimited()
                value = .lengthDelimited(bytes, embedded: embeddedMessage(bytes, in: reader, depthBudget: depthBudget))
            case .startGroup:
                guard groupDepth < reader.maxGroupDepth else {
                    throw .nestingTooDeep(limit: reader.maxGroupDepth, offset: tagOffset)
                }
                value = .group(try decode(&reader, depthBudget: depthBudget,
                                          closingGroup: (tag.fieldNumber, tagOffset), groupDepth: groupDepth + 1))
            case .endGroup:
                guard let closingGroup, closingGroup.number == tag.fieldNumber else {
                    throw .unexpectedEndGroup(fieldNumber: tag.fieldNumber, offset: tagOffset)
                }
                return RawProtobufMessage(fields: fields)
            }
            fields.append(RawProtobufField(number: tag.fieldNumber, value: value))
        }
        if let closingGroup {
            throw .unterminatedGroup(fieldNumber: closingGroup.number, offset: closingGroup.offset)
        }
        return RawProtobufMessage(fields: fields)
    }

    /// The message `bytes` parse as, or nil (empty, no depth left, or not a whole message).
    private static func embeddedMessage(_ bytes: ArraySlice<UInt8>, in reader: ProtobufWireReader,
                                        depthBudget: Int) -> RawProtobufMessage? {
        guard !bytes.isEmpty, depthBudget > 0 else { return nil }
        var nested = reader.nestedReader(for: bytes, maxGroupDepth: depthBudget)
        return try? decode(&nested, depthBudget: depthBudget - 1, closingGroup: nil, groupDepth: 0)
    }
}
