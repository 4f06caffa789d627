/// ZigZag encoding of `sint32`/`sint64` (protobuf's encoding guide): small negative
/// numbers map to small unsigned ones (0 -> 0, -1 -> 1, 1 -> 2, -2 -> 3, ...), so they
/// take few varint bytes. Both directions are total (every bit pattern maps to one value).
public enum ProtobufZigZag {
    public static func encode(_ value: Int64) -> UInt64 {
        UInt64(bitPattern: (value << 1) ^ (value >> 63))
    }

    public static func decode(_ value: UInt64) -> Int64 {
        Int64(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
    }

    public static func encode(_ value: Int32) -> UInt32 {
        UInt32(bitPattern: (value << 1) ^ (value >> 31))
    }

    public static func decode(_ value: UInt32) -> Int32 {
        Int32(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
    }
}
