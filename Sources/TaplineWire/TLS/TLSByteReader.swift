/// A bounds-checked cursor over bytes for parsing TLS structures: every read
/// returns nil instead of trapping when the input is short.
struct TLSByteReader: Sendable {
    private let bytes: ArraySlice<UInt8>
    private var position: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.position = bytes.startIndex
    }

    var remaining: Int { bytes.endIndex - position }
    var isAtEnd: Bool { position == bytes.endIndex }

    mutating func readUInt8() -> UInt8? {
        guard remaining >= 1 else { return nil }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func readUInt16() -> Int? {
        guard remaining >= 2 else { return nil }
        defer { position += 2 }
        return Int(bytes[position]) << 8 | Int(bytes[position + 1])
    }

    mutating func readUInt24() -> Int? {
        guard remaining >= 3 else { return nil }
        defer { position += 3 }
        return Int(bytes[position]) << 16 | Int(bytes[position + 1]) << 8 | Int(bytes[position + 2])
    }

    mutating func readBytes(_ count: Int) -> ArraySlice<UInt8>? {
        guard count >= 0, remaining >= count else { return nil }
        defer { position += count }
        return bytes[position..<(position + count)]
    }

    /// A sub-reader over the next `count` bytes, which are skipped here.
    mutating func readVector(_ count: Int) -> TLSByteReader? {
        readBytes(count).map(TLSByteReader.init)
    }
}
