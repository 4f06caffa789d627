@testable import TaplineHTTPClient
import TaplineWire
import XCTest

/// `HTTP1BodyFraming.allowsReuse`: whether a connection may carry another request after a
/// final response, from its version, its `Connection` fields and its framing (RFC 9112 §9.3).
final class HTTP1BodyFramingReuseTests: XCTestCase {
    private func allowsReuse(_ version: HTTPVersion, _ fields: [(String, String)],
                             framing: HTTP1BodyFraming = .contentLength(5)) -> Bool {
        HTTP1BodyFraming.allowsReuse(after: HTTPResponseHead(version: version, status: 200, reason: "OK",
                                                              headers: HTTPHeaders(fields)),
                                     framing: framing)
    }

    func testAnHTTP11ResponseKeepsTheConnectionUnlessItSaysClose() {
        XCTAssertTrue(allowsReuse(.http1_1, [("Content-Length", "5")]))
        XCTAssertTrue(allowsReuse(.http1_1, [("Connection", "keep-alive")]))
        XCTAssertTrue(allowsReuse(.http1_1, [("Connection", "closed, upgrade")]), "a token is whole, not a prefix")
        XCTAssertTrue(allowsReuse(.http1_1, [("X-Connection", "close")]), "another field's tokens do not count")
        XCTAssertFalse(allowsReuse(.http1_1, [("Connection", "close")]))
        XCTAssertFalse(allowsReuse(.http1_1, [("connection", " Keep-Alive ,\tCLOSE ")]))
        XCTAssertFalse(allowsReuse(.http1_1, [("Connection", "upgrade"), ("Date", "x"), ("CONNECTION", "Close")]),
                       "every Connection field is read")
    }

    func testAnHTTP10ResponseKeepsTheConnectionOnlyWithKeepAliveAndNoClose() {
        XCTAssertFalse(allowsReuse(.http1_0, [("Content-Length", "5")]))
        XCTAssertFalse(allowsReuse(.http1_0, [("Keep-Alive", "timeout=5")]))
        XCTAssertTrue(allowsReuse(.http1_0, [("Connection", "Keep-Alive")]))
        XCTAssertTrue(allowsReuse(.http1_0, [("Connection", "foo"), ("connection", "bar, keep-alive")]))
        XCTAssertFalse(allowsReuse(.http1_0, [("Connection", "keep-alive"), ("Connection", "close")]))
        XCTAssertFalse(allowsReuse(.http1_0, [("Connection", "keep-alive-ish")]))
    }

    func testABodyDelimitedByTheCloseEndsTheConnection() {
        XCTAssertFalse(allowsReuse(.http1_1, [], framing: .untilClose))
        XCTAssertFalse(allowsReuse(.http1_0, [("Connection", "keep-alive")], framing: .untilClose))
        XCTAssertTrue(allowsReuse(.http1_1, [], framing: .chunked))
        XCTAssertTrue(allowsReuse(.http1_1, [], framing: .none))
    }
}
