import TaplineProtobuf
import XCTest

final class ProtobufWireReaderTests: XCTestCase {
    private func varint(_ bytes: [UInt8]) throws -> UInt64 {
        var reader = ProtobufWireReader(bytes)
        let value = try reader.readVarint()
        XCTAssertTrue(reader.isAtEnd, "varint \(bytes) left bytes unread")
        return value
    }

    func testVarintEdgeValuesDecodeAndRoundTrip() throws {
        let cases: [(UInt64, [UInt8])] = [
            (0, [0x00]),
            (127, [0x7F]),
            (128, [0x80, 0x01]),
            (300, [0xAC, 0x02]),
            (1 << 63, [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),
            (UInt64.max, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
            // int64 -1 and int32 -2 are sent as 10-byte varints.
            (UInt64(bitPattern: -1), [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
            (UInt64(bitPattern: Int64(Int32(-2))), [0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
        ]
        for (value, bytes) in cases {
            XCTAssertEqual(try varint(bytes), value, "decoding \(bytes)")
            var writer = ProtobufWireWriter()
            writer.writeVarint(value)
            XCTAssertEqual(writer.bytes, bytes, "encoding \(value)")
            XCTAssertEqual(ProtobufWireWriter.varintSize(value), bytes.count)
        }
        XCTAssertEqual(Int64(bitPattern: try varint(cases[6].1)), -1)
    }

    func testVarintTenthByteHighBitsAreDroppedAsProtocDoes() throws {
        XCTAssertEqual(try varint([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]), UInt64.max)
        // A non-minimal encoding of 0 is accepted.
        XCTAssertEqual(try varint([0x80, 0x80, 0x00]), 0)
    }

    func testElevenByteVarintIsAnOverflowError() {
        var reader = ProtobufWireReader([0x08] + [UInt8](repeating: 0xFF, count: 10) + [0x01])
        XCTAssertNoThrow(try reader.readTag())
        XCTAssertThrowsError(try reader.readVarint()) { error in
            XCTAssertEqual(error as? ProtobufWireError, .varintTooLong(offset: 1))
        }
    }

    func testTruncatedValuesAreErrorsWithOffsets() {
        var varint = ProtobufWireReader([0x96])
        XCTAssertThrowsError(try varint.readVarint()) { XCTAssertEqual($0 as? ProtobufWireError, .truncated(offset: 0)) }
        var fixed32 = ProtobufWireReader([1, 2, 3])
        XCTAssertThrowsError(try fixed32.readFixed32()) { XCTAssertEqual($0 as? ProtobufWireError, .truncated(offset: 0)) }
        var fixed64 = ProtobufWireReader([1, 2, 3, 4, 5, 6, 7])
        XCTAssertThrowsError(try fixed64.readFixed64()) { XCTAssertEqual($0 as? ProtobufWireError, .truncated(offset: 0)) }
        var delimited = ProtobufWireReader([0x05, 0x61, 0x62])
        XCTAssertThrowsError(try delimited.readLengthDelimited()) {
            XCTAssertEqual($0 as? ProtobufWireError, .truncated(offset: 0))
        }
        var length = ProtobufWireReader([0x80, 0x80, 0x80, 0x80, 0x08])
        XCTAssertThrowsError(try length.readLengthDelimited()) {
            XCTAssertEqual($0 as? ProtobufWireError, .lengthOutOfRange(1 << 31, offset: 0))
        }
        var tag = ProtobufWireReader([0x80])
        XCTAssertThrowsError(try tag.readTag()) { XCTAssertEqual($0 as? ProtobufWireError, .truncated(offset: 0)) }
    }

    func testBadTagsAreTypedErrors() {
        func tagError(_ bytes: [UInt8]) -> ProtobufWireError? {
            var reader = ProtobufWireReader(bytes)
            do {
                _ = try reader.readTag()
                return nil
            } catch {
                return error
            }
        }
        XCTAssertEqual(tagError([0x00]), .fieldNumberZero(offset: 0))
        XCTAssertEqual(tagError([0x0E]), .invalidWireType(6, offset: 0))
        XCTAssertEqual(tagError([0x0F]), .invalidWireType(7, offset: 0))
        XCTAssertEqual(tagError([0x80, 0x80, 0x80, 0x80, 0x10]), .tagOutOfRange(offset: 0))
        XCTAssertEqual(tagError([0x88, 0x80, 0x80, 0x80, 0x80, 0x00]), .tagOutOfRange(offset: 0))
        XCTAssertNil(tagError([0xF8, 0xFF, 0xFF, 0xFF, 0x0F]))  // field 2^29 - 1
    }

    func testEveryWireTypeReadsAndWrites() throws {
        var writer = ProtobufWireWriter()
        writer.writeVarintField(1, 150)
        writer.writeTag(ProtobufFieldTag(fieldNumber: 2, wireType: .fixed64))
        writer.writeFixed64(0x0102030405060708)
        writer.writeLengthDelimitedField(3, Array("hi".utf8))
        writer.writeTag(ProtobufFieldTag(fieldNumber: 4, wireType: .startGroup))
        writer.writeVarintField(5, 1)
        writer.writeTag(ProtobufFieldTag(fieldNumber: 4, wireType: .endGroup))
        writer.writeTag(ProtobufFieldTag(fieldNumber: 6, wireType: .fixed32))
        writer.writeFixed32(0xDEADBEEF)
        XCTAssertEqual(writer.bytes, [0x08, 0x96, 0x01, 0x11, 8, 7, 6, 5, 4, 3, 2, 1, 0x1A, 0x02, 0x68, 0x69,
                                      0x23, 0x28, 0x01, 0x24, 0x35, 0xEF, 0xBE, 0xAD, 0xDE])

        var reader = ProtobufWireReader(writer.bytes)
        XCTAssertEqual(try reader.readTag(), ProtobufFieldTag(fieldNumber: 1, wireType: .varint))
        XCTAssertEqual(try reader.readVarint(), 150)
        XCTAssertEqual(try reader.readTag(), ProtobufFieldTag(fieldNumber: 2, wireType: .fixed64))
        XCTAssertEqual(try reader.readFixed64(), 0x0102030405060708)
        XCTAssertEqual(try reader.readTag(), ProtobufFieldTag(fieldNumber: 3, wireType: .lengthDelimited))
        XCTAssertEqual(Array(try reader.readLengthDelimited()), Array("hi".utf8))
        let group = try reader.readTag()
        XCTAssertEqual(group, ProtobufFieldTag(fieldNumber: 4, wireType: .startGroup))
        try reader.skipValue(of: group)
        XCTAssertEqual(try reader.readTag(), ProtobufFieldTag(fieldNumber: 6, wireType: .fixed32))
        XCTAssertEqual(try reader.readFixed32(), 0xDEADBEEF)
        XCTAssertTrue(reader.isAtEnd)
    }

    func testGroupsAreSkippedToTheirMatchingEnd() throws {
        // 1: group { 2: group { 3: 7 } 4: "x" } then 5: 9
        var reader = ProtobufWireReader([0x0B, 0x13, 0x18, 0x07, 0x14, 0x22, 0x01, 0x78, 0x0C, 0x28, 0x09])
        try reader.skipValue(of: try reader.readTag())
        XCTAssertEqual(try reader.readTag(), ProtobufFieldTag(fieldNumber: 5, wireType: .varint))
        XCTAssertEqual(try reader.readVarint(), 9)
    }

    func testGroupErrors() {
        func skipError(_ bytes: [UInt8], maxGroupDepth: Int = 100) -> ProtobufWireError? {
            var reader = ProtobufWireReader(bytes, maxGroupDepth: maxGroupDepth)
            do {
                try reader.skipValue(of: try reader.readTag())
                return nil
            } catch {
                return error
            }
        }
        XCTAssertEqual(skipError([0x0B, 0x08, 0x01]), .unterminatedGroup(fieldNumber: 1, offset: 0))
        XCTAssertEqual(skipError([0x0B, 0x14]), .unexpectedEndGroup(fieldNumber: 2, offset: 1))
        XCTAssertEqual(skipError([0x0C]), .unexpectedEndGroup(fieldNumber: 1, offset: 0))
        XCTAssertEqual(skipError([0x0B, 0x0B, 0x0B, 0x0C, 0x0C, 0x0C], maxGroupDepth: 2),
                       .nestingTooDeep(limit: 2, offset: 2))
        XCTAssertNil(skipError([0x0B, 0x0B, 0x0C, 0x0C], maxGroupDepth: 2))
    }

    func testZigZag() {
        let pairs: [(Int64, UInt64)] = [(0, 0), (-1, 1), (1, 2), (-2, 3), (Int64.max, UInt64.max - 1), (Int64.min, UInt64.max)]
        for (signed, encoded) in pairs {
            XCTAssertEqual(ProtobufZigZag.encode(signed), encoded)
            XCTAssertEqual(ProtobufZigZag.decode(encoded), signed)
        }
        let pairs32: [(Int32, UInt32)] = [(0, 0), (-1, 1), (2147483647, 4294967294), (-2147483648, 4294967295)]
        for (signed, encoded) in pairs32 {
            XCTAssertEqual(ProtobufZigZag.encode(signed), encoded)
            XCTAssertEqual(ProtobufZigZag.decode(encoded), signed)
        }
    }
}
