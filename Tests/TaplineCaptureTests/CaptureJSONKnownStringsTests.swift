import XCTest
@testable import TaplineCapture

/// `CaptureJSONKnownStrings`: the parser hands out a listed string only for exactly its
/// bytes; any other string, however close, is made from its own bytes.
final class CaptureJSONKnownStringsTests: XCTestCase {
    private func lookUp(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress.flatMap { CaptureJSONKnownStrings.shared.string($0, count: buffer.count) }
        }
    }

    func testListedStringsAreFoundOnlyForTheirOwnBytes() {
        for listed in ["t", "type", "flowEnded", "firstResponseByte", "HTTP/1.1", "Content-Length", ":authority",
                       "Not Found", "Internal Server Error"] {
            XCTAssertEqual(lookUp(listed), listed)
        }
        for other in ["T", "typ", "typf", "types", "flowEnde", "HTTP/1.2", "Content-length", "Host ", "x", "é",
                      "Not found", "Internal Server Errors", "Found ",
                      String(repeating: "a", count: 40)] {
            XCTAssertNil(lookUp(other), other)
        }
    }

    func testTheParserGivesTheSameStringsWhetherListedOrNot() throws {
        let line = #"{"t":1,"type":"requestHead","typf":"HTTP/1.2","version":"HTTP/1.1","headers":[["Host","a"],["Hosts","b"]],"k\u0065y":"v"}"#
        let value = try CaptureJSONParser.parse(Array(line.utf8))
        XCTAssertEqual(value, .object([
            (key: "t", value: .integer(1)), (key: "type", value: .string("requestHead")),
            (key: "typf", value: .string("HTTP/1.2")), (key: "version", value: .string("HTTP/1.1")),
            (key: "headers", value: .array([.array([.string("Host"), .string("a")]), .array([.string("Hosts"), .string("b")])])),
            (key: "key", value: .string("v")),
        ]))
    }
}
