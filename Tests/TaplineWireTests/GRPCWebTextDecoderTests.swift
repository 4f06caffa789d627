import TaplineWire
import XCTest

/// `GRPCWebTextDecoder`: base64 gRPC-Web text, one or several padded runs, cut anywhere.
final class GRPCWebTextDecoderTests: XCTestCase {
    /// Three frames each encoded on its own (padded runs back to back), as a gateway writes them.
    private let frames: [[UInt8]] = [
        GRPCMessageFrame.encoded(Array("hello".utf8)),
        GRPCMessageFrame.encoded([0x08, 0x96, 0x01, 0xFF]),
        GRPCMessageFrame.encodedWebTrailers(HTTPHeaders([(name: "grpc-status", value: "0")])),
    ]

    private var text: [UInt8] { frames.flatMap { Array(Base64.encode($0).utf8) } }

    func testPaddedRunsBackToBackDecodeToTheFramesAtEverySplit() throws {
        let expected = frames.flatMap { $0 }
        XCTAssertTrue(text.contains(UInt8(ascii: "=")), "the fixture must have padding in the middle")
        for split in 0...text.count {
            var decoder = GRPCWebTextDecoder()
            let bytes = try decoder.decode(text[..<split]) + decoder.decode(text[split...])
            try decoder.finish()
            XCTAssertEqual(bytes, expected, "split at \(split)")
        }
        // Byte by byte.
        var decoder = GRPCWebTextDecoder()
        var bytes: [UInt8] = []
        for character in text { bytes += try decoder.decode([character]) }
        try decoder.finish()
        XCTAssertEqual(bytes, expected)
    }

    func testOneRunDecodes() throws {
        let all = frames.flatMap { $0 }
        var decoder = GRPCWebTextDecoder()
        XCTAssertEqual(try decoder.decode(Array(Base64.encode(all).utf8)), all)
        try decoder.finish()
    }

    func testABodyEndingInsideAGroupFailsAtFinish() throws {
        var decoder = GRPCWebTextDecoder()
        _ = try decoder.decode(Array("AAAAAAU".utf8))
        XCTAssertThrowsError(try decoder.finish()) { XCTAssertEqual($0 as? GRPCWebTextError, .unfinishedGroup(count: 3)) }
    }

    func testNotBase64NamesTheGroupWhateverTheSplit() {
        let bad = Array("AAAAAAVo!WxsbwA=".utf8) // the group at 8 has '!'
        for split in 0...bad.count {
            var decoder = GRPCWebTextDecoder()
            XCTAssertThrowsError(try { _ = try decoder.decode(bad[..<split]); _ = try decoder.decode(bad[split...]) }(),
                                 "split at \(split)") {
                XCTAssertEqual($0 as? GRPCWebTextError, .invalidGroup(offset: 8))
            }
            XCTAssertThrowsError(try decoder.finish(), "stays failed")
        }
    }

    func testPaddingInsideAGroupIsNotBase64() {
        var decoder = GRPCWebTextDecoder()
        XCTAssertThrowsError(try decoder.decode(Array("AA=AAAAA".utf8))) {
            XCTAssertEqual($0 as? GRPCWebTextError, .invalidGroup(offset: 0))
        }
    }

    func testStoredBodyCutInsideAGroupKeepsTheWholeGroups() {
        XCTAssertEqual(GRPCWebTextDecoder.decodeStored(Array("aGVsbG8=aGk".utf8)), Array("hello".utf8))
        XCTAssertNil(GRPCWebTextDecoder.decodeStored(Array("a!==".utf8)))
    }
}
