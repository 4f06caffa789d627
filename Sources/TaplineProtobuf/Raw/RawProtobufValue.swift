/// The value of one field of a message decoded without a schema: what the wire type
/// says, and for a length-delimited value whether it parsed wholly as a message.
public indirect enum RawProtobufValue: Equatable, Sendable {
    case varint(UInt64)
    case fixed32(UInt32)
    case fixed64(UInt64)
    /// A length-delimited value: its bytes (a slice of the decoded input), and the
    /// message they parse as when they are non-empty, parse wholly as protobuf and the
    /// nesting bound allowed trying (`RawProtobufMessage.init(decoding:maxDepth:)`).
    /// Without `embedded`, renderers show valid UTF-8 as a string, anything else as bytes.
    case lengthDelimited(ArraySlice<UInt8>, embedded: RawProtobufMessage?)
    /// A proto2 group: the fields between its start- and end-group tags.
    case group(RawProtobufMessage)
}
