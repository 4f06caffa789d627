import TaplineProtobuf
import XCTest

final class GRPCMessageDecompressorTests: XCTestCase {
    // "hello grpc" compressed by Python: zlib.compress / gzip.compress(mtime=0).
    private let zlibHello: [UInt8] = [0x78, 0x9C, 0xCB, 0x48, 0xCD, 0xC9, 0xC9, 0x57, 0x48, 0x2F, 0x2A, 0x48, 0x06, 0x00, 0x15, 0x6A, 0x03, 0xE1]
    private let gzipHello: [UInt8] = [0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xCB, 0x48, 0xCD, 0xC9, 0xC9, 0x57, 0x48, 0x2F, 0x2A, 0x48, 0x06, 0x00, 0x67, 0xD3, 0x7F, 0xCE, 0x0A, 0x00, 0x00, 0x00]
    private let hello = Array("hello grpc".utf8)

    func testGzipAndDeflateMessagesAreDecompressed() throws {
        XCTAssertEqual(try GRPCMessageDecompressor.decompress(gzipHello[...], compressed: true, grpcEncoding: "gzip"), hello)
        XCTAssertEqual(try GRPCMessageDecompressor.decompress(zlibHello[...], compressed: true, grpcEncoding: " Deflate "),
                       hello)
    }

    func testUncompressedFlagPassesBytesThrough() throws {
        XCTAssertEqual(try GRPCMessageDecompressor.decompress(hello[...], compressed: false, grpcEncoding: "gzip"), hello)
    }

    func testOtherEncodingsAreReportedNotDecoded() {
        XCTAssertThrowsError(try GRPCMessageDecompressor.decompress(hello[...], compressed: true, grpcEncoding: "snappy")) {
            XCTAssertEqual($0 as? GRPCMessageDecodingError, .unsupportedEncoding("snappy"))
            XCTAssertEqual("\($0)", "not decoded: encoding snappy")
        }
        XCTAssertThrowsError(try GRPCMessageDecompressor.decompress(hello[...], compressed: true, grpcEncoding: nil)) {
            XCTAssertEqual($0 as? GRPCMessageDecodingError, .compressedWithoutEncoding)
        }
    }

    func testOutputIsBounded() {
        XCTAssertThrowsError(try GRPCMessageDecompressor.decompress(gzipHello[...], compressed: true, grpcEncoding: "gzip",
                                                                    maxOutputBytes: 4)) {
            XCTAssertEqual($0 as? GRPCMessageDecodingError, .failed(encoding: "gzip", reason: .outputLimitExceeded(limit: 4)))
        }
    }
}
