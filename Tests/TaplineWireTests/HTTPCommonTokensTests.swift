import XCTest
@testable import TaplineWire

/// Common methods and schemes come back as the same text they were read from,
/// whether or not they are one of the constants; `:status` is read as a number.
final class HTTPCommonTokensTests: XCTestCase {
    private func withBytes<Result>(_ text: String, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        Array(text.utf8).withUnsafeBufferPointer(body)
    }

    func testMethodsAndSchemesKeepTheirTextExactly() {
        for text in ["GET", "PUT", "POST", "HEAD", "PATCH", "DELETE", "OPTIONS", "CONNECT", "get", "GOT", "PROPFIND",
                     "", "M-SEARCH", "caf\u{E9}"] {
            XCTAssertEqual(withBytes(text) { HTTPCommonTokens.method($0) }, text)
        }
        for text in ["http", "https", "HTTP", "ftp", "httpx", ""] {
            XCTAssertEqual(withBytes(text) { HTTPCommonTokens.scheme($0) }, text)
        }
    }

    func testHTTP2StatusIsReadFromTheStatusField() {
        XCTAssertEqual(HTTPHeaders([(":status", "200"), ("server", "x")]).http2Status, 200)
        XCTAssertEqual(HTTPHeaders([("server", "x"), (":status", "103")]).http2Status, 103)
        XCTAssertNil(HTTPHeaders([("server", "x")]).http2Status)
        XCTAssertNil(HTTPHeaders([(":status", "20")]).http2Status)
        XCTAssertNil(HTTPHeaders([(":status", "2x0")]).http2Status)
        XCTAssertNil(HTTPHeaders().http2Status)
    }
}
