import TaplineProtobuf
import XCTest

final class ProtoTokenizerTests: XCTestCase {
    private func tokens(_ text: String) throws -> [ProtoToken] {
        try ProtoTokenizer.tokens(of: text, file: "t.proto")
    }

    private func stringValue(_ literal: String) throws -> [UInt8] {
        let all = try tokens(literal)
        XCTAssertEqual(all.count, 1)
        XCTAssertEqual(all.first?.kind, .string)
        return all.first?.bytes ?? []
    }

    func testCommentsAreSkippedEverywhere() throws {
        let all = try tokens("/* a */message/**/M//x\n{ /* multi\nline */ }// end")
        XCTAssertEqual(all.map(\.text), ["message", "M", "{", "}"])
        XCTAssertEqual(all[2].location, ProtoSourceLocation(file: "t.proto", line: 2, column: 1))
    }

    func testUnclosedBlockCommentNamesWhereItStarted() {
        XCTAssertThrowsError(try tokens("message M {}\n  /* never closed")) { error in
            XCTAssertEqual((error as? ProtoSchemaError)?.location, ProtoSourceLocation(file: "t.proto", line: 2, column: 3))
        }
    }

    func testSimpleEscapes() throws {
        XCTAssertEqual(try stringValue(#""\a\b\f\n\r\t\v\\\'\"\?""#), [7, 8, 12, 10, 13, 9, 11, 92, 39, 34, 63])
        XCTAssertEqual(try stringValue(#"'single "double" inside'"#), Array(#"single "double" inside"#.utf8))
    }

    func testOctalEscapesTakeOneToThreeDigits() throws {
        XCTAssertEqual(try stringValue(#""\0\12\101\1011\377""#), [0, 10, 65, 65, 0x31, 255])
        XCTAssertThrowsError(try stringValue(#""\400""#))
    }

    func testHexEscapesTakeOneOrTwoDigits() throws {
        XCTAssertEqual(try stringValue(#""\x41\xa\XfFz""#), [0x41, 0x0A, 0xFF, UInt8(ascii: "z")])
        XCTAssertThrowsError(try stringValue(#""\xg""#))
    }

    func testUnicodeEscapesAreUTF8() throws {
        XCTAssertEqual(try stringValue(#""\u00e9\U0001F600""#), Array("é😀".utf8))
        XCTAssertThrowsError(try stringValue(#""\u12""#))
        XCTAssertThrowsError(try stringValue(#""\q""#))
    }

    func testStringMustCloseOnItsLine() {
        XCTAssertThrowsError(try tokens("\"open\nmore\""))
    }

    func testNumbersInEveryForm() throws {
        let all = try tokens("42 0x2A 0X2a 052 0 1.5 .5 1e9 1.E-3 2.5e+10 inf nan")
        XCTAssertEqual(all.map(\.kind), [.integer, .integer, .integer, .integer, .integer,
                                         .float, .float, .float, .float, .float, .identifier, .identifier])
        XCTAssertEqual(all.map(\.text), ["42", "0x2A", "0X2a", "052", "0", "1.5", ".5", "1e9", "1.E-3", "2.5e+10", "inf", "nan"])
    }

    func testMalformedNumbersAreErrors() {
        XCTAssertThrowsError(try tokens("089"))
        XCTAssertThrowsError(try tokens("0x"))
        XCTAssertThrowsError(try tokens("1e"))
        XCTAssertThrowsError(try tokens("12abc"))
    }

    func testColumnsCountTabsAsProtocDoes() throws {
        let all = try tokens("\tmessage\n  \t M")
        XCTAssertEqual(all[0].location.column, 9)
        XCTAssertEqual(all[1].location, ProtoSourceLocation(file: "t.proto", line: 2, column: 10))
    }
}
