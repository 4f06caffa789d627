import CBrotli
import CZstd
import TaplineCompression
import XCTest

final class ContentDecoderTests: XCTestCase {
    private let text = Array(String(repeating: "tapline export ", count: 500).utf8)

    private func brotli(_ input: [UInt8]) -> [UInt8] {
        var size = BrotliEncoderMaxCompressedSize(input.count)
        var output = [UInt8](repeating: 0, count: size)
        _ = BrotliEncoderCompress(5, 22, BROTLI_MODE_TEXT, input.count, input, &size, &output)
        return Array(output[0..<size])
    }

    private func zstd(_ input: [UInt8]) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: ZSTD_compressBound(input.count))
        let size = ZSTD_compress(&output, output.count, input, input.count, 3)
        return Array(output[0..<size])
    }

    func testChainsDecodeInReverseOrder() throws {
        let gzipped = try ZlibDeflater.compress(text, format: .gzip)
        XCTAssertEqual(try ContentDecoder.decode(gzipped, contentEncoding: "gzip"), text)
        XCTAssertEqual(try ContentDecoder.decode(brotli(text), contentEncoding: "br"), text)
        XCTAssertEqual(try ContentDecoder.decode(zstd(text), contentEncoding: "zstd"), text)
        XCTAssertEqual(try ContentDecoder.decode(brotli(gzipped), contentEncoding: "gzip, br"), text)
        XCTAssertEqual(try ContentDecoder.decode(text, contentEncoding: "identity"), text)
    }

    func testLimitsAndErrors() {
        XCTAssertThrowsError(try ContentDecoder.decode(brotli(text), contentEncoding: "br", maxOutputBytes: 100)) { error in
            XCTAssertEqual(error as? ContentDecodingError, .failed(coding: "br", reason: .outputLimitExceeded(limit: 100)))
        }
        XCTAssertThrowsError(try ContentDecoder.decode(zstd(text), contentEncoding: "zstd", maxOutputBytes: 10))
        XCTAssertThrowsError(try ContentDecoder.decode(text, contentEncoding: "br"))
        XCTAssertThrowsError(try ContentDecoder.decode(Array(zstd(text).dropLast(3)), contentEncoding: "zstd"))
        XCTAssertThrowsError(try ContentDecoder.decode(text, contentEncoding: "compress")) { error in
            XCTAssertEqual(error as? ContentDecodingError, .unsupportedCoding("compress"))
        }
    }
}
