import XCTest
import TaplineTLS
@testable import TaplineProxy

/// When a host whose client keeps refusing our certificate switches to pass-through.
final class AutoPassthroughTableTests: XCTestCase {
    func testSwitchesOnTheNthRejectionInARowAndSaysSoOnce() {
        let table = AutoPassthroughTable(threshold: 3)
        XCTAssertFalse(table.recordRejection(of: "pinned.test"))
        XCTAssertFalse(table.recordRejection(of: "pinned.test"))
        XCTAssertFalse(table.isPassedThrough("pinned.test"))
        XCTAssertTrue(table.recordRejection(of: "pinned.test"))
        XCTAssertTrue(table.isPassedThrough("pinned.test"))
        XCTAssertFalse(table.recordRejection(of: "pinned.test"), "switched once: no second log line")
        XCTAssertFalse(table.isPassedThrough("other.test"))
    }

    func testAnAcceptedHandshakeStartsTheCountOver() {
        let table = AutoPassthroughTable(threshold: 2)
        XCTAssertFalse(table.recordRejection(of: "flaky.test"))
        table.recordAcceptance(of: "flaky.test")
        XCTAssertFalse(table.recordRejection(of: "flaky.test"))
        XCTAssertTrue(table.recordRejection(of: "flaky.test"))
    }

    func testHostsAreCountedSeparately() {
        let table = AutoPassthroughTable(threshold: 2)
        XCTAssertFalse(table.recordRejection(of: "a.test"))
        XCTAssertFalse(table.recordRejection(of: "b.test"))
        XCTAssertTrue(table.recordRejection(of: "a.test"))
        XCTAssertFalse(table.isPassedThrough("b.test"))
    }

    func testAThresholdBelowOneMeansOne() {
        XCTAssertTrue(AutoPassthroughTable(threshold: 0).recordRejection(of: "x.test"))
    }

    func testWhatCountsAsTheClientRefusingOurCertificate() {
        XCTAssertTrue(InterceptedClientOutcome.refusesCertificate(.handshakeFailed(reason: "sslv3 alert", alert: "unknown ca")))
        XCTAssertTrue(InterceptedClientOutcome.refusesCertificate(.handshakeFailed(reason: "x", alert: "bad certificate")))
        XCTAssertTrue(InterceptedClientOutcome.refusesCertificate(.handshakeFailed(reason: "x", alert: "certificate unknown")))
        XCTAssertTrue(InterceptedClientOutcome.refusesCertificate(
            .handshakeFailed(reason: "peer closed the connection during the handshake", alert: nil)))
        XCTAssertTrue(InterceptedClientOutcome.refusesCertificate(.handshakeFailed(reason: "Connection reset by peer", alert: nil)))
        XCTAssertFalse(InterceptedClientOutcome.refusesCertificate(.handshakeFailed(reason: "no shared cipher", alert: "handshake failure")))
        XCTAssertFalse(InterceptedClientOutcome.refusesCertificate(.handshakeFailed(reason: "x", alert: "protocol version")))
        XCTAssertFalse(InterceptedClientOutcome.refusesCertificate(.protocolError("bad record mac")))
    }

    func testAHandshakeThenACloseWithoutARequestIsARejection() {
        XCTAssertEqual(InterceptedClientOutcome.closedBeforeRequest.verdict, .rejection)
        XCTAssertEqual(InterceptedClientOutcome.sentRequest.verdict, .acceptance)
        XCTAssertEqual(InterceptedClientOutcome.handshakeFailed(.handshakeFailed(reason: "x", alert: "bad certificate")).verdict,
                       .rejection)
        XCTAssertEqual(InterceptedClientOutcome.handshakeFailed(.handshakeFailed(reason: "no shared cipher",
                                                                                  alert: "handshake failure")).verdict,
                       .neutral)
    }

    func testClosesAfterTheHandshakeCountInARowUntilARequestIsSent() {
        let table = AutoPassthroughTable(threshold: 3)
        XCTAssertFalse(table.record(.closedBeforeRequest, for: "okhttp.test"))
        XCTAssertFalse(table.record(.closedBeforeRequest, for: "okhttp.test"))
        XCTAssertFalse(table.record(.sentRequest, for: "okhttp.test"), "a client that sent a request starts the count over")
        XCTAssertFalse(table.record(.closedBeforeRequest, for: "okhttp.test"))
        XCTAssertFalse(table.record(.handshakeFailed(.protocolError("bad record mac")), for: "okhttp.test"),
                       "unrelated failures leave the count alone")
        XCTAssertFalse(table.record(.closedBeforeRequest, for: "okhttp.test"))
        XCTAssertTrue(table.record(.closedBeforeRequest, for: "okhttp.test"))
        XCTAssertTrue(table.isPassedThrough("okhttp.test"))
    }
}
