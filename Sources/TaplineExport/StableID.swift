/// Identifiers derived from content, so the same input always gives the same
/// id (collections diff well in git) and different inputs practically never
/// collide: two independent 64-bit FNV-1a hashes of the parts, formatted as a
/// UUID (version nibble 8, "custom", RFC 9562 §5.8). Pure functions.
public enum StableID {
    /// A UUID-formatted id for `parts` (joined unambiguously).
    public static func uuid(_ parts: String...) -> String {
        uuid(parts)
    }

    public static func uuid(_ parts: [String]) -> String {
        var bytes: [UInt8] = []
        for part in parts {
            bytes.append(contentsOf: part.utf8)
            bytes.append(0x1F)  // unit separator: ("ab","c") != ("a","bc")
        }
        return uuid(bytes: bytes)
    }

    /// A UUID-formatted id for raw bytes.
    public static func uuid(bytes: [UInt8]) -> String {
        var a: UInt64 = 0xcbf2_9ce4_8422_2325
        var b: UInt64 = 0x84222325_cbf29ce4
        for byte in bytes { mix(&a, &b, byte) }
        var high = a, low = b
        high = (high & ~0xF000) | 0x8000  // version 8
        low = (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000  // RFC variant
        let text = hex(high) + hex(low)
        let c = Array(text)
        return String(c[0..<8]) + "-" + String(c[8..<12]) + "-" + String(c[12..<16]) + "-"
            + String(c[16..<20]) + "-" + String(c[20..<32])
    }

    private static func mix(_ a: inout UInt64, _ b: inout UInt64, _ byte: UInt8) {
        a = (a ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        b = (b ^ UInt64(byte ^ 0x5A)) &* 0x0000_0100_0000_01B3
        b ^= b >> 29
    }

    private static func hex(_ value: UInt64) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: 16 - text.count) + text
    }
}
