@testable import TaplineHTTPClient
import XCTest

final class LegReadPausesTests: XCTestCase {
    func testReadingResumesOnlyWhenTheLastReasonIsGone() {
        var pauses = LegReadPauses()
        XCTAssertTrue(pauses.pause(.clientSlow), "the first reason stops reading")
        XCTAssertFalse(pauses.pause(.captureBackedUp), "already stopped")
        XCTAssertFalse(pauses.resume(.clientSlow), "the capture still holds it")
        XCTAssertTrue(pauses.isPaused)
        XCTAssertTrue(pauses.resume(.captureBackedUp))
        XCTAssertFalse(pauses.isPaused)
    }

    func testAReasonThatWasNotSetResumesNothing() {
        var pauses = LegReadPauses()
        XCTAssertFalse(pauses.resume(.captureBackedUp))
        XCTAssertTrue(pauses.pause(.captureBackedUp))
        XCTAssertFalse(pauses.resume(.clientSlow))
        XCTAssertEqual(pauses.reasons, .captureBackedUp)
    }

    func testPausingTwiceForOneReasonNeedsOneResume() {
        var pauses = LegReadPauses()
        XCTAssertTrue(pauses.pause(.clientSlow))
        XCTAssertFalse(pauses.pause(.clientSlow))
        XCTAssertTrue(pauses.resume(.clientSlow))
    }
}
