extension UnsafeBufferPointer where Element == UInt8 {
    /// True when no byte is 0x80 or more, checked eight bytes at a time. ASCII is valid
    /// UTF-8, so bytes that pass stay the same through a `String` made of them: the capture
    /// writer copies such text without validating it, and a replay copies a recorded field
    /// list byte for byte where decoding each field into a `String` would give the same.
    @inlinable
    public var isASCII: Bool {
        guard let source = baseAddress else { return true }
        let from = UnsafeRawPointer(source)
        var high: UInt64 = 0
        var index = 0
        while index &+ 8 <= count {
            high |= from.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            index &+= 8
        }
        while index < count {
            high |= UInt64(source[index])
            index &+= 1
        }
        return high & 0x8080_8080_8080_8080 == 0
    }
}
