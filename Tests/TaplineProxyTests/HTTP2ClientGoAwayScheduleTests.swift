import TaplineHTTP2
import XCTest
@testable import TaplineProxy

/// When the client of an HTTP/2 connection is told GOAWAY: an upstream's error code at
/// once, its NO_ERROR after the streams in flight, shutdown's at once and at the end.
final class HTTP2ClientGoAwayScheduleTests: XCTestCase {
    private typealias GoAway = HTTP2ClientGoAwaySchedule.GoAway

    func testAnUpstreamsNoErrorGoAwayWaitsForTheStreamsInFlightAndIsPassedOnOnce() {
        var schedule = HTTP2ClientGoAwaySchedule()
        XCTAssertNil(schedule.upstreamSentGoAway(code: .noError, upstream: "origin.test:443"))
        XCTAssertEqual(schedule.takeDeferred(), GoAway(code: .noError, debugData: "upstream origin.test:443 sent GOAWAY"))
        XCTAssertNil(schedule.takeDeferred(), "passed on twice")
        XCTAssertEqual(schedule.lastStreamEnded(), .waitForIdleTimeout)
    }

    func testAnUpstreamsErrorGoAwayIsPassedOnAtOnce() {
        var schedule = HTTP2ClientGoAwaySchedule()
        XCTAssertEqual(schedule.upstreamSentGoAway(code: .protocolError, upstream: "origin.test:443"),
                       GoAway(code: .protocolError, debugData: "upstream origin.test:443 sent GOAWAY"))
        XCTAssertNil(schedule.takeDeferred())
    }

    func testShutdownSaysGoAwayAtOnceAndAgainWhenTheLastStreamEnds() {
        var schedule = HTTP2ClientGoAwaySchedule()
        XCTAssertEqual(schedule.lastStreamEnded(), .waitForIdleTimeout)
        XCTAssertEqual(schedule.beginShutdown(), GoAway(code: .noError, debugData: "shutting down"))
        XCTAssertTrue(schedule.isShuttingDown)
        XCTAssertEqual(schedule.lastStreamEnded(), .goAway(GoAway(code: .noError, debugData: "")))
    }
}
