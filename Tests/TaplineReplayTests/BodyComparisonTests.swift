import Foundation
import TaplineExport
@testable import TaplineReplay
import XCTest

final class BodyComparisonTests: XCTestCase {
    private let comparison = BodyComparison()

    private func body(_ text: String, _ type: String? = nil, incomplete: String? = nil) -> ComparedBody {
        ComparedBody(bytes: Array(text.utf8), incompleteReason: incomplete, mediaType: MediaType(type))
    }

    func testJSONBodiesCompareStructurally() {
        XCTAssertNil(comparison.difference(body(#"{"a":1.0}"#, "application/json"), body(#"{ "a": 1 }"#, "application/json")))
        XCTAssertEqual(comparison.difference(body(#"{"a":1}"#, "application/problem+json"), body(#"{"a":2}"#, "application/json")),
                       .json([JSONChange(pointer: JSONPointer(tokens: ["a"]), kind: .changed, a: .number("1"), b: .number("2"))]))
    }

    func testFormBodiesAreParameterMultisets() {
        let type = "application/x-www-form-urlencoded"
        XCTAssertNil(comparison.difference(body("a=1&b=x+y", type), body("b=x%20y&a=1", type)))
        XCTAssertEqual(comparison.difference(body("a=1&tag=x&tag=y", type), body("a=2&tag=y", type)), .form([
            FieldDifference(name: "a", removed: ["1"], added: ["2"]),
            FieldDifference(name: "tag", removed: ["x"], added: []),
        ]))
    }

    func testTextIsAUnifiedDiffWithContext() {
        let a = (1...20).map { "line \($0)" }.joined(separator: "\n")
        let b = a.replacingOccurrences(of: "line 5\n", with: "line five\n") + "\nline 21"
        guard case .text(let diff) = comparison.difference(body(a, "text/plain"), body(b, "text/plain")) else {
            return XCTFail("expected a text diff")
        }
        XCTAssertEqual(diff.lines, [
            "@@ -2,7 +2,7 @@", " line 2", " line 3", " line 4", "-line 5", "+line five", " line 6", " line 7", " line 8",
            "@@ -18,3 +18,4 @@", " line 18", " line 19", " line 20", "+line 21",
        ])
        XCTAssertEqual(diff.omittedLines, 0)
    }

    func testTextDiffOutputIsBounded() {
        let a = (0..<1000).map { "a\($0)" }.joined(separator: "\n")
        let b = (0..<1000).map { "b\($0)" }.joined(separator: "\n")
        guard case .text(let diff) = comparison.difference(body(a), body(b)) else { return XCTFail("expected a text diff") }
        XCTAssertEqual(diff.lines.count, UnifiedTextDiff.maxOutputLines)
        XCTAssertEqual(diff.lines.count + diff.omittedLines, 2001)
    }

    func testBinaryBodiesBySizeAndSHA256() {
        let a = ComparedBody(bytes: [0, 1, 2, 0xFF])
        let b = ComparedBody(bytes: [0, 1, 2])
        XCTAssertEqual(comparison.difference(a, b), .binary(a: BodyFingerprint([0, 1, 2, 0xFF]), b: BodyFingerprint([0, 1, 2])))
        XCTAssertEqual(BodyFingerprint([]).sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(BodyFingerprint(Array("abc".utf8)).sha256,
                       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertNil(comparison.difference(a, a))
    }

    func testTruncatedBodiesAreNeverEqual() {
        let cut = "the capture kept only 4 of 10 bytes"
        XCTAssertEqual(comparison.difference(body("abcd", incomplete: cut), body("abcdefghij")),
                       .incomplete(IncompleteBodyComparison(aReason: cut, bReason: nil, comparedBytes: 4, firstDifference: nil)))
        XCTAssertEqual(comparison.difference(body("abxd", incomplete: cut), body("abcd", incomplete: cut)),
                       .incomplete(IncompleteBodyComparison(aReason: cut, bReason: cut, comparedBytes: 4, firstDifference: 2)))
    }

    func testWebSocketTextMessagesAreJSONAware() {
        let a = ComparedBody(bytes: Array(#"{"n":1,"t":"x"}"#.utf8), origin: .textMessage)
        let b = ComparedBody(bytes: Array(#"{"t":"x","n":2}"#.utf8), origin: .textMessage)
        XCTAssertEqual(comparison.difference(a, b),
                       .json([JSONChange(pointer: JSONPointer(tokens: ["n"]), kind: .changed, a: .number("1"), b: .number("2"))]))
    }
}

final class FormFieldsTests: XCTestCase {
    private func multipart(_ boundary: String, _ parts: [(name: String, file: String?, body: String)]) -> ComparedBody {
        var text = ""
        for part in parts {
            text += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(part.name)\""
            text += part.file.map { "; filename=\"\($0)\"\r\nContent-Type: application/octet-stream" } ?? ""
            text += "\r\n\r\n\(part.body)\r\n"
        }
        text += "--\(boundary)--\r\n"
        return ComparedBody(bytes: Array(text.utf8), mediaType: MediaType("multipart/form-data; boundary=\(boundary)"))
    }

    func testMultipartFormsCompareByFieldsNotBoundaries() {
        let a = multipart("AaB03x", [("title", nil, "Report"), ("upload", "r.bin", "1234")])
        let b = multipart("xyz987", [("title", nil, "Report"), ("upload", "r.bin", "1234")])
        XCTAssertNil(BodyComparison().difference(a, b))
        let changed = multipart("q", [("title", nil, "Report 2"), ("upload", "r.bin", "1234")])
        XCTAssertEqual(BodyComparison().difference(a, changed), .form([FieldDifference(name: "title", removed: ["Report"], added: ["Report 2"])]))
        XCTAssertEqual(RequestBodyDigest.digest(a.bytes, mediaType: a.mediaType), RequestBodyDigest.digest(b.bytes, mediaType: b.mediaType))
        XCTAssertNotEqual(RequestBodyDigest.digest(a.bytes, mediaType: a.mediaType),
                          RequestBodyDigest.digest(changed.bytes, mediaType: changed.mediaType))
    }

    func testRequestDigestIgnoresJSONWhitespaceAndFormOrder() {
        let json = MediaType("application/json")
        XCTAssertEqual(RequestBodyDigest.digest(Array(#"{"a": [1, 2]}"#.utf8), mediaType: json),
                       RequestBodyDigest.digest(Array(#"{"a":[1,2]}"#.utf8), mediaType: json))
        let form = MediaType("application/x-www-form-urlencoded")
        XCTAssertEqual(RequestBodyDigest.digest(Array("a=1&b=2".utf8), mediaType: form),
                       RequestBodyDigest.digest(Array("b=2&a=1".utf8), mediaType: form))
        XCTAssertEqual(RequestBodyDigest.digest([], mediaType: nil), "")
    }
}
