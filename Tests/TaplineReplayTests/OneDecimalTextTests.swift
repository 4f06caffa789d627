import Foundation
@testable import TaplineCLI
import XCTest

/// The latency table's numbers are printed as `String(format: "%.1f")` printed them.
final class OneDecimalTextTests: XCTestCase {
    private func assertSameAsFormat(_ value: Double, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(OneDecimalText.string(value), String(format: "%.1f", value), "\(value)", file: file, line: line)
    }

    /// Every latency below 200 ms as the replay measures it: whole microseconds / 1,000
    /// (ties such as 0.05 and 2.25 included, which printf rounds on the binary value).
    func testWholeMicrosecondsAsMilliseconds() {
        for microseconds in 0..<200_000 { assertSameAsFormat(Double(microseconds) / 1_000) }
    }

    func testEdgeValues() {
        for value in [0.0, -0.0, -1.25, 0.05, 0.15, 0.25, 0.35, 0.45, 9.95, 99.95, 1e7 + 0.05, 99_999_999.94,
                      100_000_000.25, 1e20, .infinity, -.infinity, .nan, .ulpOfOne, .leastNonzeroMagnitude] {
            assertSameAsFormat(value)
        }
    }

    /// Values that are not whole microseconds (`LatencyPercentiles(_:)` takes any).
    func testArbitraryValues() {
        for step in 0..<100_000 { assertSameAsFormat(Double(step) * 0.013_7 + Double(step % 7) * 1e-9) }
    }
}
