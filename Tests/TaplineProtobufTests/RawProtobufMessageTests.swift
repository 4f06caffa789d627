import TaplineProtobuf
import XCTest

final class RawProtobufMessageTests: XCTestCase {
    /// Wraps `bytes` as field 1 (length-delimited) `levels` times.
    private func nested(_ bytes: [UInt8], levels: Int) -> [UInt8] {
        var message = bytes
        for _ in 0..<levels {
            var writer = ProtobufWireWriter()
            writer.writeLengthDelimitedField(1, message)
            message = writer.bytes
        }
        return message
    }

    func testDecodesEveryWireTypeAndRendersLikeProtoc() throws {
        let bytes: [UInt8] = [0x08, 0x96, 0x01, 0x12, 0x07] + Array("testing".utf8)
            + [0x1A, 0x03, 0x08, 0x96, 0x01, 0x25, 0x2A, 0, 0, 0, 0x29, 1, 0, 0, 0, 0, 0, 0, 0,
               0x32, 0x03, 0xC3, 0xA9, 0x0A, 0x3A, 0x00, 0x43, 0x08, 0x01, 0x44]
        let message = try RawProtobufMessage(decoding: bytes)
        XCTAssertEqual(message.fields.map(\.number), [1, 2, 3, 4, 5, 6, 7, 8])
        XCTAssertEqual(RawProtobufTextFormat.render(message), """
        1: 150
        2: "testing"
        3 {
          1: 150
        }
        4: 0x0000002a
        5: 0x0000000000000001
        6: "\\303\\251\\n"
        7: ""
        8 {
          1: 1
        }

        """)
        XCTAssertEqual(RawProtobufJSON.render(message),
                       #"{"1":150,"2":"testing","3":{"1":150},"4":"0x0000002a","5":"0x0000000000000001","6":"é\n","7":"","8":{"1":1}}"#)
    }

    func testRepeatedNumbersBecomeArraysInFirstAppearanceOrder() throws {
        var writer = ProtobufWireWriter()
        writer.writeVarintField(2, 1)
        writer.writeVarintField(1, UInt64.max)
        writer.writeVarintField(2, 1 << 53)
        writer.writeLengthDelimitedField(3, [0xFF, 0x00])
        let message = try RawProtobufMessage(decoding: writer.bytes)
        XCTAssertEqual(RawProtobufJSON.render(message),
                       #"{"2":[1,9007199254740992],"1":"18446744073709551615","3":{"bytes":"/wA="}}"#)
    }

    func testCEscapesNonPrintableBytesInOctal() throws {
        var writer = ProtobufWireWriter()
        writer.writeLengthDelimitedField(1, [0x27, 0x22, 0x5C, 0x7F, 0x00, 0x09, 0xFF, 0x0D])
        XCTAssertEqual(RawProtobufTextFormat.render(try RawProtobufMessage(decoding: writer.bytes)),
                       #"1: "\'\"\\\177\000\t\377\r""# + "\n")
    }

    func testEmbeddedMessagesAreTriedTenLevelsDeepAsProtocDoes() throws {
        let message = try RawProtobufMessage(decoding: nested([0x08, 0x01], levels: 12))
        let text = RawProtobufTextFormat.render(message)
        XCTAssertEqual(text.components(separatedBy: "{").count - 1, 10)
        XCTAssertTrue(text.contains(#"1: "\n\002\010\001""#), text)
    }

    func testValueThatDoesNotParseWhollyStaysAString() throws {
        // 0x0A 0x0D: a length of 13 with 0 bytes following: not a message.
        var writer = ProtobufWireWriter()
        writer.writeLengthDelimitedField(8, [0x0A, 0x0D])
        writer.writeLengthDelimitedField(9, [0x0C])  // an end-group tag alone
        let message = try RawProtobufMessage(decoding: writer.bytes)
        XCTAssertEqual(RawProtobufTextFormat.render(message), "8: \"\\n\\r\"\n9: \"\\014\"\n")
    }

    func testMalformedTopLevelInputThrows() {
        let cases: [([UInt8], ProtobufWireError)] = [
            ([0x08], .truncated(offset: 1)),
            ([0x00, 0x01], .fieldNumberZero(offset: 0)),
            ([0x0B, 0x08, 0x01], .unterminatedGroup(fieldNumber: 1, offset: 0)),
            ([0x08, 0x01, 0x0C], .unexpectedEndGroup(fieldNumber: 1, offset: 2)),
            ([0x0B, 0x14], .unexpectedEndGroup(fieldNumber: 2, offset: 1)),
            ([0x0D, 0x01, 0x02, 0x03], .truncated(offset: 1)),
        ]
        for (bytes, expected) in cases {
            XCTAssertThrowsError(try RawProtobufMessage(decoding: bytes), "\(bytes)") { error in
                XCTAssertEqual(error as? ProtobufWireError, expected, "\(bytes)")
            }
        }
    }

    func testDeepGroupsAreBoundedNotACrash() {
        let depth = ProtobufWireReader.defaultMaxGroupDepth + 1
        let bytes = [UInt8](repeating: 0x0B, count: depth) + [UInt8](repeating: 0x0C, count: depth)
        XCTAssertThrowsError(try RawProtobufMessage(decoding: bytes)) { error in
            XCTAssertEqual(error as? ProtobufWireError, .nestingTooDeep(limit: 100, offset: 100))
        }
        let fine = [UInt8](repeating: 0x0B, count: depth - 1) + [UInt8](repeating: 0x0C, count: depth - 1)
        XCTAssertNoThrow(try RawProtobufMessage(decoding: fine))
    }

    func testEncodedRoundTripsToAnEqualMessage() throws {
        // A non-minimal varint (0 as 3 bytes) re-encodes shorter but decodes equal.
        let bytes: [UInt8] = [0x08, 0x80, 0x80, 0x00, 0x12, 0x03, 0x08, 0x96, 0x01, 0x0B, 0x10, 0x02, 0x0C, 0x1D, 1, 2, 3, 4]
        let message = try RawProtobufMessage(decoding: bytes)
        let encoded = message.encoded()
        XCTAssertEqual(encoded.count, bytes.count - 2)
        XCTAssertEqual(try RawProtobufMessage(decoding: encoded), message)
    }

    /// Found by FuzzProtobufRaw: an embedded message written with a 2-byte tag (0xB5 0x00)
    /// must round-trip as the bytes it came from, not re-encoded shorter.
    func testEmbeddedMessageWithLongTagRoundTrips() throws {
        let bytes: [UInt8] = [0x82, 0x18, 0x0E, 0xF8, 0xF3, 0x7A, 0x0A, 0xB5, 0x00, 0x09, 0x06, 0x0A, 0x04, 0x0A, 0x02, 0x08, 0x01]
        let message = try RawProtobufMessage(decoding: bytes)
        XCTAssertEqual(message.encoded(), bytes)
        XCTAssertEqual(try RawProtobufMessage(decoding: message.encoded()), message)
    }
}
