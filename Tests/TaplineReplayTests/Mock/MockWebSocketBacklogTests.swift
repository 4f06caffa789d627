@testable import TaplineReplay
import XCTest

/// `MockWebSocketBacklog`: what a mocked WebSocket server said past its outbox comes out
/// in the order it was said, across many appends and takes (the front is dropped as it goes).
final class MockWebSocketBacklogTests: XCTestCase {
    func testEntriesComeOutInTheOrderTheyWereSaid() {
        var backlog = MockWebSocketBacklog()
        XCTAssertTrue(backlog.isEmpty)
        XCTAssertNil(backlog.popFirst())
        backlog.append(.recordedMessage(3))
        backlog.append(.frame([0x8A, 0x00]))
        backlog.append(.recordedMessage(4))
        XCTAssertEqual(backlog.count, 3)
        XCTAssertEqual(backlog.popFirst(), .recordedMessage(3))
        XCTAssertEqual(backlog.popFirst(), .frame([0x8A, 0x00]))
        backlog.append(.recordedMessage(5))
        XCTAssertEqual(backlog.popFirst(), .recordedMessage(4))
        XCTAssertEqual(backlog.popFirst(), .recordedMessage(5))
        XCTAssertTrue(backlog.isEmpty)
        XCTAssertNil(backlog.popFirst())
    }

    /// Takes interleaved with appends, past the point where the taken front is dropped:
    /// nothing is lost, repeated or reordered.
    func testInterleavedTakesKeepOrderWhileTheFrontIsDropped() {
        var backlog = MockWebSocketBacklog()
        var taken: [Int] = []
        var next = 0
        for round in 0..<50 {
            for _ in 0..<(round % 7 + 3) {
                backlog.append(.recordedMessage(next))
                next += 1
            }
            for _ in 0..<(round % 5 + 2) {
                guard case .recordedMessage(let position)? = backlog.popFirst() else { break }
                taken.append(position)
            }
        }
        while case .recordedMessage(let position)? = backlog.popFirst() { taken.append(position) }
        XCTAssertEqual(taken, Array(0..<next))
        XCTAssertTrue(backlog.isEmpty)
    }

    func testRemoveAllEmptiesIt() {
        var backlog = MockWebSocketBacklog()
        for position in 0..<100 { backlog.append(.recordedMessage(position)) }
        _ = backlog.popFirst()
        backlog.removeAll()
        XCTAssertTrue(backlog.isEmpty)
        XCTAssertEqual(backlog.count, 0)
        XCTAssertNil(backlog.popFirst())
    }

    /// A ping flood behind a full outbox: one pong waits, the answer to the latest ping,
    /// in the place of the first; what was said around it keeps its order.
    func testPongsWaitingCollapseIntoTheLatest() {
        var backlog = MockWebSocketBacklog()
        backlog.append(.recordedMessage(0))
        for ping in 0..<10_000 { backlog.appendPong([0x8A, 0x02, UInt8(ping >> 8 & 0xFF), UInt8(ping & 0xFF)]) }
        backlog.append(.recordedMessage(1))
        backlog.appendPong([0x8A, 0x01, 0xFF])
        XCTAssertEqual(backlog.count, 3)
        XCTAssertEqual(backlog.popFirst(), .recordedMessage(0))
        XCTAssertEqual(backlog.popFirst(), .frame([0x8A, 0x01, 0xFF]))
        // Once the pong went, the next ping's pong waits again, behind what is there.
        backlog.appendPong([0x8A, 0x00])
        XCTAssertEqual(backlog.popFirst(), .recordedMessage(1))
        XCTAssertEqual(backlog.popFirst(), .frame([0x8A, 0x00]))
        XCTAssertTrue(backlog.isEmpty)
    }

    /// The waiting pong is still found after the taken front is dropped.
    func testTheWaitingPongIsFoundAfterTheFrontIsDropped() {
        var backlog = MockWebSocketBacklog()
        for position in 0..<100 { backlog.append(.recordedMessage(position)) }
        backlog.appendPong([0x8A, 0x00])
        for position in 100..<150 { backlog.append(.recordedMessage(position)) }
        for position in 0..<80 { XCTAssertEqual(backlog.popFirst(), .recordedMessage(position)) }
        backlog.appendPong([0x8A, 0x01, 0x07])
        XCTAssertEqual(backlog.count, 71)
        for position in 80..<100 { XCTAssertEqual(backlog.popFirst(), .recordedMessage(position)) }
        XCTAssertEqual(backlog.popFirst(), .frame([0x8A, 0x01, 0x07]))
        for position in 100..<150 { XCTAssertEqual(backlog.popFirst(), .recordedMessage(position)) }
        XCTAssertTrue(backlog.isEmpty)
    }
}
