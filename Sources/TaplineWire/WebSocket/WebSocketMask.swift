/// Applies (and removes: XOR is its own inverse) the RFC 6455 §5.3 masking.
enum WebSocketMask {
    /// XORs `bytes` with `key` (most significant byte first), where `bytes[0]` is
    /// payload byte number `offset` of its frame.
    static func apply(key: UInt32, offset: UInt64, to bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { apply(key: key, offset: offset, to: $0) }
    }

    /// XORs the bytes in place, where `raw[0]` is payload byte number `offset` of its frame.
    static func apply(key: UInt32, offset: UInt64, to raw: UnsafeMutableRawBufferPointer) {
        guard !raw.isEmpty else { return }
        // The key rotated so that bytes[0] uses key byte `offset % 4`.
        let shift = UInt32(offset % 4) * 8
        let rotated = shift == 0 ? key : (key << shift) | (key >> (32 - shift))
        var keyBytes: (UInt8, UInt8, UInt8, UInt8) = (UInt8(rotated >> 24), UInt8(truncatingIfNeeded: rotated >> 16),
                                                      UInt8(truncatingIfNeeded: rotated >> 8), UInt8(truncatingIfNeeded: rotated))
        var word: UInt64 = 0
        withUnsafeBytes(of: &keyBytes) { key in
            withUnsafeMutableBytes(of: &word) { w in
                for i in 0..<8 { w[i] = key[i % 4] }
            }
        }
        let count = raw.count
        var index = 0
        while index + 8 <= count {
            let value = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            raw.storeBytes(of: value ^ word, toByteOffset: index, as: UInt64.self)
            index += 8
        }
        withUnsafeBytes(of: &keyBytes) { key in
            while index < count {
                raw[index] ^= key[index % 4]
                index += 1
            }
        }
    }
}
