/// A decoded field tag: `(fieldNumber << 3) | wireType`, sent as a varint before every value.
///
/// Invariant: `fieldNumber` is in `ProtobufFieldTag.validFieldNumbers` (1 ... 2^29 - 1).
public struct ProtobufFieldTag: Equatable, Hashable, Sendable {
    /// The field numbers a tag can carry: 0 is invalid, and 29 bits are left beside the wire type.
    public static let validFieldNumbers: ClosedRange<UInt32> = 1...(1 << 29 - 1)

    public let fieldNumber: UInt32
    public let wireType: ProtobufWireType

    /// - Precondition: `fieldNumber` is in `validFieldNumbers` (a programming error otherwise).
    public init(fieldNumber: UInt32, wireType: ProtobufWireType) {
        precondition(Self.validFieldNumbers.contains(fieldNumber), "protobuf field number \(fieldNumber) out of range")
        self.fieldNumber = fieldNumber
        self.wireType = wireType
    }

    /// The tag's varint value.
    public var rawValue: UInt32 { fieldNumber << 3 | UInt32(wireType.rawValue) }
}
