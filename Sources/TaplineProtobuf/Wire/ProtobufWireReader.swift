/// Reads protobuf wire format (protobuf's encoding guide) from a byte slice, one tag
/// or value at a time, without a schema.
///
/// Values that are bytes (`readLengthDelimited`) are slices of the input: reading
/// allocates nothing. Every malformed or cut input throws a `ProtobufWireError` whose
/// offset counts from `origin` (the start of the outermost buffer when a nested reader
/// is made with `nestedReader(for:)`); nothing traps.
///
/// Compatibility with protobuf's C++ parser (what `protoc --decode_raw` accepts):
/// a varint may take 10 bytes and the bits of its tenth byte beyond bit 63 are dropped;
/// a tag is a varint of at most 5 bytes and at most 2^32 - 1; a length is at most 2^31 - 1.
///
/// A value type; not thread-safe (one owner).
public struct ProtobufWireReader {
    /// The default for `maxGroupDepth`: protobuf's default recursion limit.
    public static let defaultMaxGroupDepth = 100

    public let bytes: ArraySlice<UInt8>
    /// The index in `bytes` of the next byte to read.
    public private(set) var index: Int
    /// The index that error offsets count from.
    public let origin: Int
    /// How many groups `skipValue` follows into before throwing `nestingTooDeep`.
    public let maxGroupDepth: Int
    /// Where the tag `readTag` last returned starts, counted from `origin` (errors about
    /// the value that follows a tag point at the tag).
    public private(set) var lastTagOffset = 0

    /// - Parameters:
    ///   - origin: the index error offsets count from (default: `bytes.startIndex`).
    public init(_ bytes: ArraySlice<UInt8>, origin: Int? = nil, maxGroupDepth: Int = defaultMaxGroupDepth) {
        self.bytes = bytes
        self.index = bytes.startIndex
        self.origin = origin ?? bytes.startIndex
        self.maxGroupDepth = maxGroupDepth
    }

    public init(_ bytes: [UInt8], maxGroupDepth: Int = defaultMaxGroupDepth) {
        self.init(bytes[...], maxGroupDepth: maxGroupDepth)
    }

    /// True when every byte has been read.
    public var isAtEnd: Bool { index >= bytes.endIndex }

    /// The position of the next byte, counted from `origin`.
    public var offset: Int { index - origin }

    /// A reader for `slice` (a value this reader returned) whose errors count from this reader's origin.
    public func nestedReader(for slice: ArraySlice<UInt8>, maxGroupDepth: Int? = nil) -> ProtobufWireReader {
        ProtobufWireReader(slice, origin: origin, maxGroupDepth: maxGroupDepth ?? self.maxGroupDepth)
    }

    /// Reads a base-128 varint of up to 10 bytes.
    /// - Throws: `truncated`, or `varintTooLong` when the tenth byte has its continuation bit.
    public mutating func readVarint() throws(ProtobufWireError) -> UInt64 {
        try readVarint(maxBytes: 10) { .varintTooLong(offset: $0) }
    }

    /// Reads a field tag. An `endGroup` tag is returned like any other: the caller that
    /// opened the group checks its field number.
    /// - Throws: `truncated`, `tagOutOfRange`, `fieldNumberZero`, `invalidWireType`.
    public mutating func readTag() throws(ProtobufWireError) -> ProtobufFieldTag {
        let start = index
        lastTagOffset = start - origin
        let value = try readVarint(maxBytes: 5) { .tagOutOfRange(offset: $0) }
        guard value <= UInt64(UInt32.max) else { throw .tagOutOfRange(offset: start - origin) }
        let fieldNumber = UInt32(value >> 3)
        guard fieldNumber != 0 else { throw .fieldNumberZero(offset: start - origin) }
        guard let wireType = ProtobufWireType(rawValue: UInt8(value & 7)) else {
            throw .invalidWireType(UInt8(value & 7), offset: start - origin)
        }
        return ProtobufFieldTag(fieldNumber: fieldNumber, wireType: wireType)
    }

    /// Reads four little-endian bytes.
    public mutating func readFixed32() throws(ProtobufWireError) -> UInt32 {
        try readLittleEndian()
    }

    /// Reads eight little-endian bytes.
    public mutating func readFixed64() throws(ProtobufWireError) -> UInt64 {
        try readLittleEndian()
    }

    /// Reads a varint of at most `maxBytes` bytes; `tooLong` makes the error, given the
    /// varint's offset, when the last allowed byte still has its continuation bit.
    private mutating func readVarint(maxBytes: Int,
                                     tooLong: (Int) -> ProtobufWireError) throws(ProtobufWireError) -> UInt64 {
        let start = index
        var result: UInt64 = 0
        for byteIndex in 0..<maxBytes {
            guard index < bytes.endIndex else { throw .truncated(offset: start - origin) }
            let byte = bytes[index]
            index += 1
            result |= UInt64(byte & 0x7F) << UInt64(7 * byteIndex)
            if byte < 0x80 { return result }
        }
        throw tooLong(start - origin)
    }

    private mutating func readLittleEndian<Value: FixedWidthInteger & UnsignedInteger>() throws(ProtobufWireError) -> Value {
        let size = Value.bitWidth / 8
        guard bytes.endIndex - index >= size else { throw .truncated(offset: index - origin) }
        var value: Value = 0
        for position in 0..<size {
            value |= Value(bytes[index + position]) << (position * 8)
        }
        index += size
        return value
    }

    /// Reads a varint length and returns that many bytes, as a slice of the input.
    /// - Throws: `truncated`, `varintTooLong`, `lengthOutOfRange` (over 2^31 - 1).
    public mutating func readLengthDelimited() throws(ProtobufWireError) -> ArraySlice<UInt8> {
        let start = index
        let length = try readVarint()
        guard length <= UInt64(Int32.max) else { throw .lengthOutOfRange(length, offset: start - origin) }
        guard bytes.endIndex - index >= Int(length) else { throw .truncated(offset: start - origin) }
        let value = bytes[index..<(index + Int(length))]
        index += Int(length)
        return value
    }

    /// Skips the value that follows `tag` (the tag `readTag` just returned). A group is
    /// skipped up to its matching end-group tag, following nested groups up to `maxGroupDepth`.
    /// - Throws: any read error; `unexpectedEndGroup` for an `endGroup` tag (no group is
    ///   open here) or one closing another field; `unterminatedGroup` (naming the innermost
    ///   open group); `nestingTooDeep`.
    public mutating func skipValue(of tag: ProtobufFieldTag) throws(ProtobufWireError) {
        let tagOffset = lastTagOffset
        switch tag.wireType {
        case .varint: _ = try readVarint()
        case .fixed64: _ = try readFixed64()
        case .fixed32: _ = try readFixed32()
        case .lengthDelimited: _ = try readLengthDelimited()
        case .endGroup: throw .unexpectedEndGroup(fieldNumber: tag.fieldNumber, offset: tagOffset)
        case .startGroup:
            // The open groups' field numbers and tag offsets, innermost last.
            var open: [(number: UInt32, offset: Int)] = [(tag.fieldNumber, tagOffset)]
            while let innermost = open.last {
                guard !isAtEnd else { throw .unterminatedGroup(fieldNumber: innermost.number, offset: innermost.offset) }
                let inner = try readTag()
                let innerOffset = lastTagOffset
                switch inner.wireType {
                case .startGroup:
                    guard open.count < maxGroupDepth else {
                        throw .nestingTooDeep(limit: maxGroupDepth, offset: innerOffset)
                    }
                    open.append((inner.fieldNumber, innerOffset))
                case .endGroup:
                    guard inner.fieldNumber == innermost.number else {
                        throw .unexpectedEndGroup(fieldNumber: inner.fieldNumber, offset: innerOffset)
                    }
                    open.removeLast()
                default:
                    try skipValue(of: inner)
                }
            }
        }
    }
}
