@testable import TaplineHTTPClient
import XCTest

final class StaleConnectionRetryRuleTests: XCTestCase {
    private func allows(method: String = "GET", body: Bool = false, complete: Bool = true, reused: Bool = true,
                        started: Bool = false, resent: Bool = false) -> Bool {
        StaleConnectionRetryRule.allowsResend(method: method, requestHasBody: body, requestComplete: complete,
                                              overReusedConnection: reused, responseStarted: started,
                                              alreadyResent: resent)
    }

    func testABodilessIdempotentRequestOnAReusedConnectionIsSentOnceMore() {
        for method in ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"] {
            XCTAssertTrue(allows(method: method), method)
        }
    }

    func testANonIdempotentMethodIsNotSentTwice() {
        for method in ["POST", "PATCH", "CONNECT", "get"] {
            XCTAssertFalse(allows(method: method), method)
        }
    }

    func testARequestWithABodyOrNotYetCompleteIsNotSentTwice() {
        XCTAssertFalse(allows(method: "PUT", body: true))
        XCTAssertFalse(allows(complete: false))
    }

    func testOnlyAReusedConnectionThatGaveNoResponseByteQualifies() {
        XCTAssertFalse(allows(reused: false), "a fresh connection that fails is not stale")
        XCTAssertFalse(allows(started: true), "the server answered something")
        XCTAssertFalse(allows(resent: true), "at most once more")
    }
}
