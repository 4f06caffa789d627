import XCTest
import TaplineWire
@testable import TaplineCLI

/// `--json` output's shape: keys sorted by their bytes at every depth, a repeated key's
/// first value kept, numbers as `JSONValue.double` writes them.
final class ShowJSONTests: XCTestCase {
    func testKeysAreSortedByTheirBytesAtEveryDepthAndARepeatedKeyKeepsItsFirstValue() {
        let value = JSONValue.object([
            JSONMember("b", .integer(1)), JSONMember("B", .integer(2)), JSONMember("a", .string("first")),
            JSONMember("list", .array([.object([JSONMember("z", .null), JSONMember("y", .bool(true))])])),
            JSONMember("a", .string("second")), JSONMember("a10", .integer(10)), JSONMember("a9", .integer(9)),
        ])
        XCTAssertEqual(ShowJSON.line(value), #"{"B":2,"a":"first","a10":10,"a9":9,"b":1,"list":[{"y":true,"z":null}]}"#)
        XCTAssertEqual(ShowJSON.text(.object([JSONMember("k", .array([])), JSONMember("e", .object([]))])),
                       "{\n  \"e\": {},\n  \"k\": []\n}")
    }

    func testDoublesAreWrittenInTheirShortestFormAndWholeOnesWithoutAFraction() {
        XCTAssertEqual(JSONValue.double(0.594), .number("0.594"))
        XCTAssertEqual(JSONValue.double(-1), .number("-1"))
        XCTAssertEqual(JSONValue.double(1e-5), .number("1e-05"))
        XCTAssertEqual(JSONValue.double(12.3456789), .number("12.3456789"))
        XCTAssertEqual(JSONValue.double(.nan), .null)
        XCTAssertEqual(JSONValue.double(.infinity), .null)
    }
}
