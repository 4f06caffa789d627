/// An order-sensitive checksum (Fletcher-style, wrapping) plus a byte count,
/// so data split at any boundary gives the same result.
struct StreamChecksum: Equatable, Sendable {
    private(set) var count = 0
    private var a: UInt64 = 1
    private var b: UInt64 = 0

    mutating func update(_ bytes: some Collection<UInt8>) {
        count += bytes.count
        var a = self.a, b = self.b
        let done: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            for byte in buffer {
                a = a &+ UInt64(byte)
                b = b &+ a
            }
        }
        if done == nil {
            for byte in bytes {
                a = a &+ UInt64(byte)
                b = b &+ a
            }
        }
        self.a = a
        self.b = b
    }

    /// Deterministic test data: `count` bytes that are not a short repeating pattern.
    static func testData(count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> [UInt8] {
        var state = seed
        var data = [UInt8](repeating: 0, count: count)
        data.withUnsafeMutableBufferPointer { buffer in
            for i in 0..<buffer.count {
                state ^= state << 13
                state ^= state >> 7
                state ^= state << 17
                buffer[i] = UInt8(truncatingIfNeeded: state)
            }
        }
        return data
    }
}
