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
        XCTAssertTrue(AutoPassthroughTable.countsAsRejection(.handshakeFailed(reason: "sslv3 alert", alert: "unknown ca")))
        XCTAssertTrue(AutoPassthroughTable.countsAsRejection(.handshakeFailed(reason: "x", alert: "bad certificate")))
        XCTAssertTrue(AutoPassthroughTable.countsAsRejection(.handshakeFailed(reason: "x", alert: "certificate unknown")))
        XCTAssertTrue(AutoPassthroughTable.countsAsRejection(
            .handshakeFailed(reason: "peer closed the connection during the handshake", alert: nil)))
        XCTAssertTrue(AutoPassthroughTable.countsAsRejection(.handshakeFailed(reason: "Connection reset by peer", alert: nil)))
        XCTAssertFalse(AutoPassthroughTable.countsAsRejection(.handshakeFailed(reason: "no shared cipher", alert: "handshake failure")))
        XCTAssertFalse(AutoPassthroughTable.countsAsRejection(.handshakeFailed(reason: "x", alert: "protocol version")))
        XCTAssertFalse(AutoPassthroughTable.countsAsRejection(.protocolError("bad record mac")))
    }
}
