import TaplineWire
import XCTest

final class HTTPHeadersTokenTests: XCTestCase {
    private let headers = HTTPHeaders([
        ("Connection", " Keep-Alive ,, X-Custom\t"), ("connection", "Upgrade"),
        ("Transfer-Encoding", "gzip, Chunked"), ("Host", "a"),
    ])

    func testTokensAreTrimmedLowercasedAndSkipEmpties() {
        XCTAssertEqual(headers.tokens(name: "CONNECTION"), ["keep-alive", "x-custom", "upgrade"])
        XCTAssertEqual(headers.tokens(name: "transfer-encoding"), ["gzip", "chunked"])
        XCTAssertEqual(headers.tokens(name: "Missing"), [])
    }

    func testContainsTokenIgnoresCaseAndWhitespace() {
        XCTAssertTrue(headers.containsToken("upgrade", inField: "Connection"))
        XCTAssertTrue(headers.containsToken("KEEP-ALIVE", inField: "connection"))
        XCTAssertTrue(headers.containsToken("x-custom", inField: "Connection"))
        XCTAssertFalse(headers.containsToken("close", inField: "Connection"))
        XCTAssertFalse(headers.containsToken("keep", inField: "Connection"))
        XCTAssertFalse(headers.containsToken("chunked", inField: "Host"))
    }

    func testListsTokenMatchesWholeTrimmedTokensOfOneValue() {
        func lists(_ value: String, _ token: String) -> Bool {
            value.withUTF8Bytes { value in token.withUTF8Bytes { HTTPHeaders.listsToken(value, $0) } }
        }
        XCTAssertTrue(lists("gzip, Chunked", "chunked"))
        XCTAssertTrue(lists(" 100-Continue\t", "100-continue"))
        XCTAssertFalse(lists("gzip, chunkedx", "chunked"))
        XCTAssertFalse(lists("", "chunked"))
        XCTAssertFalse(lists(",,", "chunked"))
        XCTAssertFalse(lists("chun ked", "chunked"))
    }

    func testNamesEqualIsASCIICaseInsensitiveOnlyForLetters() {
        XCTAssertTrue(HTTPHeaders.namesEqual("Content-Length", "content-LENGTH"))
        XCTAssertFalse(HTTPHeaders.namesEqual("Content-Length", "Content_Length"))
        XCTAssertFalse(HTTPHeaders.namesEqual("a", "ab"))
        // '@' (0x40) and '`' (0x60) differ only in bit 0x20 but are not letters.
        XCTAssertFalse(HTTPHeaders.namesEqual("@", "`"))
    }
}
