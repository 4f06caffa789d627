import TaplineProtobuf
import TaplineWire
import XCTest

final class GRPCStatusDetailsTests: XCTestCase {
    /// google.rpc.Status{code: 3, message: "bad name", details: [Any{BadRequest bytes}]}
    private func statusBytes(code: UInt64 = 3) -> [UInt8] {
        var any = ProtobufWireWriter()
        any.writeLengthDelimitedField(1, Array("type.googleapis.com/google.rpc.BadRequest".utf8))
        any.writeLengthDelimitedField(2, [0x0A, 0x02, 0x0A, 0x00])
        var status = ProtobufWireWriter()
        status.writeVarintField(1, code)
        status.writeLengthDelimitedField(2, Array("bad name".utf8))
        status.writeLengthDelimitedField(3, any.bytes)
        status.writeVarintField(99, 7)  // an unknown field is skipped
        return status.bytes
    }

    func testDecodesStatusWithDetailsFromUnpaddedBase64() throws {
        var header = Base64.encode(statusBytes())
        while header.hasSuffix("=") { header.removeLast() }
        let status = try GRPCStatusDetails(headerValue: header)
        XCTAssertEqual(status.code, 3)
        XCTAssertEqual(status.message, "bad name")
        XCTAssertEqual(status.details, [ProtobufAny(typeURL: "type.googleapis.com/google.rpc.BadRequest",
                                                    value: [0x0A, 0x02, 0x0A, 0x00])])
        XCTAssertEqual(status.details.first?.typeName, "google.rpc.BadRequest")
        XCTAssertEqual(try GRPCStatusDetails(headerValue: Base64.encode(statusBytes())), status)
    }

    func testNegativeCodeIsATenByteVarint() throws {
        let status = try GRPCStatusDetails(decoding: statusBytes(code: UInt64(bitPattern: -5)))
        XCTAssertEqual(status.code, -5)
    }

    func testErrorsAreTyped() {
        XCTAssertThrowsError(try GRPCStatusDetails(headerValue: "not base64!")) {
            XCTAssertEqual($0 as? GRPCStatusDetailsError, .notBase64)
        }
        XCTAssertThrowsError(try GRPCStatusDetails(decoding: [0x12, 0x05, 0x61])) {
            XCTAssertEqual($0 as? GRPCStatusDetailsError, .malformed(.truncated(offset: 1)))
        }
        XCTAssertThrowsError(try GRPCStatusDetails(decoding: [0x12, 0x01, 0xFF])) {
            XCTAssertEqual($0 as? GRPCStatusDetailsError, .invalidUTF8(field: "message", offset: 1))
        }
    }
}
