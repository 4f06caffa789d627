/// One value of a field of a message decoded with its schema (`ProtobufMessageValue`).
/// The case follows the field's declared type, not the wire type.
public indirect enum ProtobufValue: Sendable, Equatable {
    /// int32, int64, sint32, sint64, sfixed32, sfixed64 (32-bit types hold values in Int32's range).
    case signed(Int64)
    /// uint32, uint64, fixed32, fixed64 (32-bit types hold values in UInt32's range).
    case unsigned(UInt64)
    case double(Double)
    case float(Float)
    case bool(Bool)
    case string(String)
    case bytes([UInt8])
    /// An enum value by number: a number the enum does not declare is kept as it came.
    case enumNumber(Int32)
    case message(ProtobufMessageValue)

    /// Whether this is its type's zero value, which a field without presence does not send.
    /// -0.0 is not zero (its bits are not), as in protobuf's serializers.
    public var isZero: Bool {
        switch self {
        case .signed(let number): number == 0
        case .unsigned(let number): number == 0
        case .double(let number): number.bitPattern == 0
        case .float(let number): number.bitPattern == 0
        case .bool(let flag): !flag
        case .string(let text): text.isEmpty
        case .bytes(let bytes): bytes.isEmpty
        case .enumNumber(let number): number == 0
        case .message: false
        }
    }
}
