import TaplineCapture
@testable import TaplineExport
import XCTest
import TaplineWire

/// The structural conversion between `JSONValue` and `CaptureJSONValue` gives what a
/// trip through JSON text gave (the conversion it replaced), numbers included.
final class JSONValueCaptureTests: XCTestCase {
    /// The former conversions, through text, as the reference.
    private func captureThroughText(_ value: JSONValue) -> CaptureJSONValue? {
        try? CaptureJSONParser.parse(Array(JSONWriter.text(value, indent: nil).utf8),
                                     maxDepth: CaptureJSONParser.defaultMaxDepth - 1)
    }

    private func exportThroughText(_ value: CaptureJSONValue) -> JSONValue? {
        try? JSONParser.parse(value.jsonText)
    }

    /// The last member named `key` (as capture readers look keys up).
    private func member(_ value: CaptureJSONValue, _ key: String) -> CaptureJSONValue? {
        guard case .object(let members) = value else { return nil }
        return members.last { $0.key == key }?.value
    }

    func testNumbersStringsAndMembersConvertAsThroughText() throws {
        let document = #"""
        {"int": 42, "neg": -7, "zero": -0, "big": 9223372036854775807, "min": -9223372036854775808,
         "beyond": 9223372036854775808, "fraction": 1.50, "exp": 1e3, "small": -2.5E-7, "negzero": -0.0,
         "text": "a\"b\\c\u0000\n\u00e9 \ud83d\ude00", "dup": 1, "dup": [true, false, null, {}, []],
         "nested": {"a": [{"b": [1, 2.0, "3"]}]}}
        """#
        let value = try JSONParser.parse(document)
        let captured = try XCTUnwrap(value.captureValue)
        XCTAssertEqual(captured, captureThroughText(value))
        XCTAssertEqual(member(captured, "exp"), .double(1000), "the capture holds the number, not its spelling")
        XCTAssertEqual(member(captured, "beyond"), .double(9223372036854775808))
        XCTAssertEqual(member(captured, "zero"), .integer(0))
        let back = JSONValue(capture: captured)
        XCTAssertEqual(back, exportThroughText(captured))
        XCTAssertEqual(back["exp"], .number("1000.0"), "a double comes back in Swift's shortest spelling")
        XCTAssertEqual(back["big"], .number("9223372036854775807"))
        XCTAssertEqual(back["negzero"], .number("-0.0"))
    }

    func testUnconvertibleValuesAreRefusedAsThroughText() {
        XCTAssertNil(JSONValue.number("1e400").captureValue, "beyond Double: the capture parser rejects it")
        XCTAssertNil(captureThroughText(.number("1e400")))
        let limit = CaptureJSONParser.defaultMaxDepth - 1
        func nested(_ depth: Int) -> JSONValue {
            (0..<depth).reduce(JSONValue.number("1")) { inner, _ in .array([inner]) }
        }
        XCTAssertNotNil(nested(limit).captureValue)
        XCTAssertNotNil(captureThroughText(nested(limit)))
        XCTAssertNil(nested(limit + 1).captureValue, "one level more than an extension line can hold")
        XCTAssertNil(captureThroughText(nested(limit + 1)))
    }
}
