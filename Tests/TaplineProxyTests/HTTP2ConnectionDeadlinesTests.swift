import Foundation
import TaplineNet
import TaplineTestSupport
import XCTest
@testable import TaplineProxy

/// Response deadlines of an HTTP/2 connection on a fake clock: which streams expire
/// when, without waiting for them (the loop only hosts the timer they re-arm).
final class HTTP2ConnectionDeadlinesTests: XCTestCase {
    private static let second: UInt64 = 1_000_000_000

    /// Runs `body` on a fresh loop (timers must be armed there) and returns its result.
    private func onLoop<T: Sendable>(_ body: @escaping @Sendable (EventLoop) -> T) throws -> T {
        let group = try EventLoopGroup(threads: 1)
        defer { group.shutdown() }
        let loop = group.loops[0]
        let result = SyncResult<T>()
        loop.execute { result.set(body(loop)) }
        return try XCTUnwrap(result.wait(seconds: 10), "the loop did not run the test")
    }

    /// A stream still uploading its request body when the response timeout passes gets
    /// its deadline (a 504 from the handler); one whose response body is streaming does not.
    func testADeadlineFiresMidRequestBodyAndNotMidResponseBody() throws {
        let outcome = try onLoop { loop -> [String] in
            var now: UInt64 = 1_000 * Self.second
            var timeouts = ProxyTimeouts()
            timeouts.response = 60_000
            let deadlines = HTTP2ConnectionDeadlines(loop: loop, timeouts: timeouts, clock: { now })
            let uploading = FakeResponseDeadlineHolder(stream: 3)
            let downloading = FakeResponseDeadlineHolder(stream: 1)
            deadlines.armResponseDeadline(for: downloading)
            deadlines.armResponseDeadline(for: uploading)
            now += 10 * Self.second
            downloading.responseDeadline = nil  // its first response byte arrived (the handler clears it)
            let later = FakeResponseDeadlineHolder(stream: 5)
            deadlines.armResponseDeadline(for: later)
            let holders = [downloading, uploading, later]

            var log: [String] = []
            now += 50 * Self.second - 1
            log.append("59.999s: " + Self.streams(deadlines.takeExpiredResponseDeadlines(among: holders)))
            now += 1
            log.append("60s: " + Self.streams(deadlines.takeExpiredResponseDeadlines(among: holders)))
            log.append("60s again: " + Self.streams(deadlines.takeExpiredResponseDeadlines(among: holders)))
            now += 10 * Self.second
            log.append("70s: " + Self.streams(deadlines.takeExpiredResponseDeadlines(among: holders)))
            log.append("left: " + Self.streams(holders.filter { $0.responseDeadline != nil }))
            return log
        }
        XCTAssertEqual(outcome, ["59.999s: ", "60s: 3", "60s again: ", "70s: 5", "left: "])
    }

    /// Streams that expire together are answered in stream order, whatever the order they are found in.
    func testStreamsExpiringTogetherComeInStreamOrder() throws {
        let expired = try onLoop { loop -> String in
            var now: UInt64 = 5 * Self.second
            let deadlines = HTTP2ConnectionDeadlines(loop: loop, timeouts: ProxyTimeouts(), clock: { now })
            let holders = [9, 1, 7, 3].map { FakeResponseDeadlineHolder(stream: Int32($0)) }
            for holder in holders { deadlines.armResponseDeadline(for: holder) }
            now += UInt64(ProxyTimeouts().response) * 1_000_000
            return Self.streams(deadlines.takeExpiredResponseDeadlines(among: holders))
        }
        XCTAssertEqual(expired, "1,3,7,9")
    }

    private static func streams(_ holders: [FakeResponseDeadlineHolder]) -> String {
        holders.map { String($0.clientStream) }.joined(separator: ",")
    }
}
