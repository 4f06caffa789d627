import TaplineExport
import XCTest
import TaplineWire

final class JSONTests: XCTestCase {
    func testRoundTripKeepsKeyOrderNumbersAndEscapes() throws {
        let text = #"{"z":1.50,"a":[true,null,"\u00e9\n\"q\"",{"b":-2e3}],"s":"\ud83d\ude00"}"#
        let value = try JSONParser.parse(text)
        XCTAssertEqual(JSONWriter.text(value, indent: nil), #"{"z":1.50,"a":[true,null,"é\n\"q\"",{"b":-2e3}],"s":"😀"}"#)
    }

    func testRejectsBadInputWithOffsets() {
        for bad in ["{", "[1,]", "{\"a\" 1}", "01", "\"\u{1}\"", "nul", "1 2", String(repeating: "[", count: 600)] {
            XCTAssertThrowsError(try JSONParser.parse(bad), bad)
        }
        XCTAssertEqual(try JSONParser.parse([0xEF, 0xBB, 0xBF] + Array("[]".utf8)), .array([]))
    }
}
