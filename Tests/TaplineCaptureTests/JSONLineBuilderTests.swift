import XCTest
@testable import TaplineCapture

/// The hand-rolled JSON writer agrees with Foundation's parser on numbers and strings.
final class JSONLineBuilderTests: XCTestCase {
    func testIntegersRoundTripThroughJSONParser() throws {
        let values: [Int64] = [0, 7, 10, 99, 100, 1_764_172_800_123_456, Int64.max, -1, -10, Int64.min]
        var builder = JSONLineBuilder()
        builder.beginArray()
        for value in values {
            builder.element()
            builder.integer(value)
        }
        builder.element()
        builder.integer(UInt64.max)
        builder.endArray()
        let text = String(decoding: builder.bytes, as: UTF8.self)
        XCTAssertEqual(text, "[" + values.map(String.init).joined(separator: ",") + ",\(UInt64.max)]")
    }

    func testStringsAreEscaped() throws {
        var builder = JSONLineBuilder()
        builder.string("a\"b\\c\n\u{1}é")
        let parsed = try JSONSerialization.jsonObject(with: Data(builder.bytes), options: [.fragmentsAllowed])
        XCTAssertEqual(parsed as? String, "a\"b\\c\n\u{1}é")
    }
}
