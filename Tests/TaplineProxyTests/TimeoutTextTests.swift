import XCTest
@testable import TaplineProxy

/// Timeouts in messages read as the user gave them, fractions included.
final class TimeoutTextTests: XCTestCase {
    func testWholeAndFractionalSeconds() {
        XCTAssertEqual(TimeoutText.seconds(5_000), "5 s")
        XCTAssertEqual(TimeoutText.seconds(60_000), "60 s")
        XCTAssertEqual(TimeoutText.seconds(1_500), "1.5 s")
        XCTAssertEqual(TimeoutText.seconds(250), "0.25 s")
        XCTAssertEqual(TimeoutText.seconds(1), "0.001 s")
    }
}
