@testable import TaplineHTTPClient
import TaplineWire
import XCTest

final class LegRequestHeadTests: XCTestCase {
    private func block(_ fields: [(String, String)]) -> LegRequestHead {
        .http2(HTTPHeaders(fields.map { (name: $0.0, value: $0.1) }))
    }

    func testAnHTTP2BlockIsAHEADOnlyWhenItsMethodIsExactlyHEAD() {
        XCTAssertTrue(block([(":method", "HEAD"), (":path", "/")]).isHEAD)
        XCTAssertTrue(block([(":path", "/"), (":method", "HEAD")]).isHEAD, "wherever the pseudo-header is")
        XCTAssertFalse(block([(":method", "GET"), (":path", "/")]).isHEAD)
        XCTAssertFalse(block([(":method", "head")]).isHEAD, "methods are case-sensitive (RFC 9110 §9.1)")
        XCTAssertFalse(block([(":method", "HEADX")]).isHEAD)
        XCTAssertFalse(block([(":path", "/")]).isHEAD, "no :method is a GET")
        XCTAssertFalse(block([("method", "HEAD")]).isHEAD, "a regular field named method does not count")
    }

    func testAnHTTP1HeadIsAHEADWhenItsMethodIs() {
        XCTAssertTrue(LegRequestHead.http1(HTTPRequestHead(method: "HEAD", target: "/")).isHEAD)
        XCTAssertFalse(LegRequestHead.http1(HTTPRequestHead(method: "GET", target: "/")).isHEAD)
    }
}
