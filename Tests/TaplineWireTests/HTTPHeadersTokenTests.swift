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

    func testNamesEqualIsASCIICaseInsensitiveOnlyForLetters() {
        XCTAssertTrue(HTTPHeaders.namesEqual("Content-Length", "content-LENGTH"))
        XCTAssertFalse(HTTPHeaders.namesEqual("Content-Length", "Content_Length"))
        XCTAssertFalse(HTTPHeaders.namesEqual("a", "ab"))
        // '@' (0x40) and '`' (0x60) differ only in bit 0x20 but are not letters.
        XCTAssertFalse(HTTPHeaders.namesEqual("@", "`"))
    }
}
