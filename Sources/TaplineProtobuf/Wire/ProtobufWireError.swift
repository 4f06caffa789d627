/// Why bytes are not valid protobuf wire format. Every case carries `offset`, the
/// position of the offending byte from the start of the buffer the reader was given,
/// so a user can find it in a hex dump.
public enum ProtobufWireError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The input ended inside a tag, varint, fixed value or length-delimited value.
    case truncated(offset: Int)
    /// A varint whose tenth byte still has its continuation bit set (an eleventh byte
    /// would be needed; no 64-bit value is that long).
    case varintTooLong(offset: Int)
    /// A tag whose varint is longer than 5 bytes or larger than 2^32 - 1.
    case tagOutOfRange(offset: Int)
    /// A tag with field number 0, which no message may use.
    case fieldNumberZero(offset: Int)
    /// A tag with wire type 6 or 7, which protobuf does not define.
    case invalidWireType(UInt8, offset: Int)
    /// A length prefix larger than 2^31 - 1 (protobuf's limit on one value).
    case lengthOutOfRange(UInt64, offset: Int)
    /// An end-group tag with no group open, or closing a group with another field number.
    case unexpectedEndGroup(fieldNumber: UInt32, offset: Int)
    /// The input ended inside the group started at `offset`.
    case unterminatedGroup(fieldNumber: UInt32, offset: Int)
    /// Groups (or, in a decoder, messages) nested deeper than `limit`.
    case nestingTooDeep(limit: Int, offset: Int)

    public var offset: Int {
        switch self {
        case .truncated(let offset), .varintTooLong(let offset), .tagOutOfRange(let offset),
             .fieldNumberZero(let offset), .invalidWireType(_, let offset), .lengthOutOfRange(_, let offset),
             .unexpectedEndGroup(_, let offset), .unterminatedGroup(_, let offset), .nestingTooDeep(_, let offset):
            return offset
        }
    }

    public var description: String {
        switch self {
        case .truncated(let offset):
            return "the protobuf data ends in the middle of a value (at byte \(offset))"
        case .varintTooLong(let offset):
            return "a varint at byte \(offset) is longer than 10 bytes"
        case .tagOutOfRange(let offset):
            return "the field tag at byte \(offset) is larger than 32 bits"
        case .fieldNumberZero(let offset):
            return "the field tag at byte \(offset) has field number 0"
        case .invalidWireType(let type, let offset):
            return "the field tag at byte \(offset) has wire type \(type) (only 0-5 exist)"
        case .lengthOutOfRange(let length, let offset):
            return "the length \(length) at byte \(offset) is over protobuf's limit of 2^31-1"
        case .unexpectedEndGroup(let number, let offset):
            return "an end-group tag for field \(number) at byte \(offset) closes no open group"
        case .unterminatedGroup(let number, let offset):
            return "the group of field \(number) started at byte \(offset) has no end-group tag"
        case .nestingTooDeep(let limit, let offset):
            return "nesting deeper than \(limit) levels at byte \(offset)"
        }
    }
}
