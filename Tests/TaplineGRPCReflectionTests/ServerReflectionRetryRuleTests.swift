import TaplineGRPCReflection
import XCTest

/// The back-off after reflection failures: doubling from the first delay, capped, and
/// the retry allowed exactly when the delay has passed on the given clock.
final class ServerReflectionRetryRuleTests: XCTestCase {
    private let rule = ServerReflectionRetryRule(firstDelayMilliseconds: 10_000, maxDelayMilliseconds: 300_000)

    func testTheDelayDoublesWithEachFailureInARowUpToTheLargest() {
        XCTAssertEqual((1...7).map { rule.delayMilliseconds(afterFailures: $0) },
                       [10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000])
        XCTAssertEqual(rule.delayMilliseconds(afterFailures: 10_000), 300_000, "no overflow after many failures")
    }

    func testARetryIsAllowedExactlyWhenTheDelayHasPassed() {
        XCTAssertFalse(rule.mayRetry(failures: 1, failedAt: 5_000, now: 14_999))
        XCTAssertTrue(rule.mayRetry(failures: 1, failedAt: 5_000, now: 15_000))
        XCTAssertFalse(rule.mayRetry(failures: 2, failedAt: 5_000, now: 15_000), "the second failure waits twice as long")
        XCTAssertTrue(rule.mayRetry(failures: 2, failedAt: 5_000, now: 25_000))
    }
}
