import TaplineExport
@testable import TaplineReplay
import XCTest
import TaplineWire

final class JSONDiffTests: XCTestCase {
    private func changes(_ a: String, _ b: String, ignoring paths: [String] = []) throws -> [String] {
        let diff = JSONDiff(ignoredPaths: paths.compactMap(JSONPointerPattern.init))
        return diff.changes(from: try JSONParser.parse(a), to: try JSONParser.parse(b)).map { change in
            let a = change.a.map { JSONWriter.text($0, indent: nil) } ?? "-"
            let b = change.b.map { JSONWriter.text($0, indent: nil) } ?? "-"
            return "\(change.kind.rawValue) \(change.pointer.text): \(a) -> \(b)"
        }
    }

    func testEqualDocumentsIgnoreMemberOrderAndWhitespace() throws {
        XCTAssertEqual(try changes(#"{"a":1,"b":[true,null]}"#, #"{ "b" : [true, null], "a" : 1 }"#), [])
    }

    func testNestedObjectChangeHasItsPointer() throws {
        XCTAssertEqual(try changes(#"{"users":[{"name":"Ann"},{"name":"Bob"},{"name":"Cy"},{"name":"Ann"}]}"#,
                                   #"{"users":[{"name":"Ann"},{"name":"Bob"},{"name":"Cy"},{"name":"Anne"}]}"#),
                       [#"changed /users/3/name: "Ann" -> "Anne""#])
    }

    func testRenamedMemberIsOneRemovedAndOneAdded() throws {
        XCTAssertEqual(try changes(#"{"id":1,"name":"x"}"#, #"{"id":1,"fullName":"x"}"#),
                       [#"removed /name: "x" -> -"#, #"added /fullName: - -> "x""#])
    }

    func testArraysElementByElementWithExtraAndMissingAtTheirIndex() throws {
        XCTAssertEqual(try changes("[1,2,3]", "[1,5,3,4]"), ["changed /1: 2 -> 5", "added /3: - -> 4"])
        XCTAssertEqual(try changes("[1,2,3]", "[1]"), ["removed /1: 2 -> -", "removed /2: 3 -> -"])
    }

    func testNumbersCompareByValueAndBigIntegersExactly() throws {
        XCTAssertEqual(try changes("[1, 1.0, 10e-1, 0.1E1, -0, 100, 2.50]", "[1.0, 1, 1, 1, 0, 1e2, 2.5]"), [])
        XCTAssertEqual(try changes("[9007199254740993]", "[9007199254740992]"),
                       ["changed /0: 9007199254740993 -> 9007199254740992"])
        XCTAssertEqual(try changes("[123456789012345678901234567890]", "[123456789012345678901234567890.000]"), [])
        XCTAssertEqual(try changes("[1]", "[\"1\"]"), [#"changed /0: 1 -> "1""#])
    }

    func testUnicodeStringsAndKeysNeedingEscapes() throws {
        XCTAssertEqual(try changes(#"{"a/b":{"m~n":"h\u00e9"}}"#, #"{"a/b":{"m~n":"he\u0301"}}"#),
                       [#"changed /a~1b/m~0n: "hé" -> "hé""#])
        XCTAssertEqual(try changes(#"{"日本":"語","😀":1}"#, #"{"日本":"語","😀":2}"#), ["changed /😀: 1 -> 2"])
    }

    func testIgnorePathWithWildcardSkipsEveryMatchAndWhatIsUnderIt() throws {
        let a = #"{"meta":{"requestId":"r1"},"items":[{"id":1,"updatedAt":"t1"},{"id":2,"updatedAt":{"x":1}}]}"#
        let b = #"{"meta":{"requestId":"r2"},"items":[{"id":1,"updatedAt":"t2"},{"id":3,"updatedAt":{"x":2}}]}"#
        XCTAssertEqual(try changes(a, b, ignoring: ["/meta/requestId", "/items/*/updatedAt"]), ["changed /items/1/id: 2 -> 3"])
        XCTAssertEqual(try changes(#"{"a~b":1}"#, #"{"a~b":2}"#, ignoring: ["/a~0b"]), [])
    }

    func testTenThousandElementDocumentIsExactAndFast() throws {
        let count = 10_000
        let a = "[" + (0..<count).map { #"{"id":\#($0),"v":"x\#($0)"}"# }.joined(separator: ",") + "]"
        let b = "[" + (0..<count).map { $0 == 7_777 ? #"{"id":7777,"v":"changed"}"# : #"{"id":\#($0),"v":"x\#($0)"}"# }
            .joined(separator: ",") + #",{"id":10000}]"#
        let start = ContinuousClock.now
        let found = try changes(a, b)
        XCTAssertEqual(found, [#"changed /7777/v: "x7777" -> "changed""#, #"added /10000: - -> {"id":10000}"#])
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(5))
    }

    func testPointerEscapingFollowsRFC6901() {
        XCTAssertEqual(JSONPointer(tokens: ["a/b", "m~n", "~1"]).text, "/a~1b/m~0n/~01")
        XCTAssertEqual(JSONPointer.unescape("~01"), "~1")
        XCTAssertEqual(JSONPointer.root.text, "")
        XCTAssertNil(JSONPointerPattern("meta/requestId"))
    }
}
