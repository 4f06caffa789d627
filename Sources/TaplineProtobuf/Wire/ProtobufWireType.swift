/// The wire type in the low three bits of a protobuf field tag (protobuf's encoding
/// guide): how the field's value is laid out, independent of any schema.
public enum ProtobufWireType: UInt8, Sendable, CaseIterable {
    /// A base-128 varint (int32, int64, uint32, uint64, sint32, sint64, bool, enum).
    case varint = 0
    /// Eight little-endian bytes (fixed64, sfixed64, double).
    case fixed64 = 1
    /// A varint length, then that many bytes (string, bytes, messages, packed repeated fields).
    case lengthDelimited = 2
    /// The start of a group (proto2, deprecated): fields up to the matching `endGroup`.
    case startGroup = 3
    /// The end of the group started by a `startGroup` tag with the same field number.
    case endGroup = 4
    /// Four little-endian bytes (fixed32, sfixed32, float).
    case fixed32 = 5
}
