import XCTest
@testable import TaplineNet

/// The DNS forwarder's query ids: unique upstream whatever ids clients chose, mapped back once.
final class DNSQueryIDMapTests: XCTestCase {
    func testTwoClientsWithTheSameIDGetDifferentUpstreamIDsAndTheirOwnBack() throws {
        var map = DNSQueryIDMap<String>(firstID: 100)
        let a = try XCTUnwrap(map.forward(clientID: 7, client: "a", now: 0))
        let b = try XCTUnwrap(map.forward(clientID: 7, client: "b", now: 0))
        XCTAssertNotEqual(a, b)
        let answerB = try XCTUnwrap(map.answer(upstreamID: b, now: 1))
        XCTAssertEqual(answerB.clientID, 7)
        XCTAssertEqual(answerB.client, "b")
        XCTAssertEqual(map.answer(upstreamID: a, now: 1)?.client, "a")
        XCTAssertNil(map.answer(upstreamID: a, now: 1), "an answer is delivered once; a duplicate is dropped")
        XCTAssertEqual(map.count, 0)
    }

    func testAnAnswerNobodyAskedForIsDropped() {
        var map = DNSQueryIDMap<String>()
        XCTAssertNil(map.answer(upstreamID: 4242, now: 0))
    }

    func testAnUnansweredQueryExpiresAfterItsLifetime() throws {
        var map = DNSQueryIDMap<String>(lifetime: 1_000)
        let id = try XCTUnwrap(map.forward(clientID: 1, client: "slow", now: 0))
        XCTAssertNil(map.answer(upstreamID: id, now: 1_000), "the client has retried by then")
        XCTAssertEqual(map.count, 0)
    }

    func testIDsInUseAreSkippedWhenTheCounterWrapsAndAFullMapDrops() throws {
        var map = DNSQueryIDMap<Int>(capacity: 2, firstID: 0xFFFF)
        let first = try XCTUnwrap(map.forward(clientID: 1, client: 1, now: 0))
        XCTAssertEqual(first, 0xFFFF)
        let second = try XCTUnwrap(map.forward(clientID: 2, client: 2, now: 0))
        XCTAssertEqual(second, 0, "wraps around")
        XCTAssertNil(map.forward(clientID: 3, client: 3, now: 0), "at capacity: dropped, the client retries")
        _ = map.answer(upstreamID: first, now: 0)
        XCTAssertNotNil(map.forward(clientID: 3, client: 3, now: 0))
    }
}
