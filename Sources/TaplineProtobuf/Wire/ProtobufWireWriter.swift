/// Writes protobuf wire format into a growing byte array: the inverse of
/// `ProtobufWireReader`. Varints are written in their shortest form.
///
/// A value type; not thread-safe (one owner). Take the result from `bytes`.
public struct ProtobufWireWriter {
    public private(set) var bytes: [UInt8]

    public init(reservingCapacity capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// How many bytes `value` takes as a varint (1 to 10).
    public static func varintSize(_ value: UInt64) -> Int {
        value == 0 ? 1 : (64 - value.leadingZeroBitCount + 6) / 7
    }

    public mutating func writeVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    public mutating func writeTag(_ tag: ProtobufFieldTag) {
        writeVarint(UInt64(tag.rawValue))
    }

    public mutating func writeFixed32(_ value: UInt32) {
        writeLittleEndian(value)
    }

    public mutating func writeFixed64(_ value: UInt64) {
        writeLittleEndian(value)
    }

    private mutating func writeLittleEndian(_ value: some FixedWidthInteger) {
        for position in 0..<(value.bitWidth / 8) { bytes.append(UInt8(truncatingIfNeeded: value >> (position * 8))) }
    }

    /// Writes the length of `value`, then its bytes.
    public mutating func writeLengthDelimited(_ value: some Collection<UInt8>) {
        writeVarint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// Appends bytes that are already wire format (whole fields), as they are.
    public mutating func writeRaw(_ encoded: some Collection<UInt8>) {
        bytes.append(contentsOf: encoded)
    }

    /// Writes a whole field: its tag, then `value` as a varint.
    public mutating func writeVarintField(_ fieldNumber: UInt32, _ value: UInt64) {
        writeTag(ProtobufFieldTag(fieldNumber: fieldNumber, wireType: .varint))
        writeVarint(value)
    }

    /// Writes a whole field: its tag, then the length and bytes of `value`.
    public mutating func writeLengthDelimitedField(_ fieldNumber: UInt32, _ value: some Collection<UInt8>) {
        writeTag(ProtobufFieldTag(fieldNumber: fieldNumber, wireType: .lengthDelimited))
        writeLengthDelimited(value)
    }
}
