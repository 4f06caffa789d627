import Foundation
import TaplineNet
import XCTest

/// Timers, cross-thread execute, LoopBound and shutdown.
final class EventLoopTests: XCTestCase {
    private var group: EventLoopGroup!

    override func setUpWithError() throws {
        group = try EventLoopGroup(threads: 2)
    }

    override func tearDown() {
        group?.shutdown()
        group = nil
    }

    func testTimersFireInDeadlineOrderAndCancelWorks() throws {
        let loop = group.loops[0]
        let fired = SyncBox<[String]>([])
        let done = expectation(description: "last timer fired")
        try LoopRunner.run(loop) {
            loop.scheduleTimer(milliseconds: 30) {
                fired.mutate { $0.append("30ms") }
                done.fulfill()
            }
            loop.scheduleTimer(milliseconds: 10) { fired.mutate { $0.append("10ms") } }
            loop.scheduleTimer(milliseconds: 20) { fired.mutate { $0.append("20ms") } }
            let cancelled = loop.scheduleTimer(milliseconds: 15) { fired.mutate { $0.append("cancelled") } }
            loop.scheduleTimer(milliseconds: 0) { fired.mutate { $0.append("0ms-a") } }
            loop.scheduleTimer(milliseconds: 0) { fired.mutate { $0.append("0ms-b") } }
            XCTAssertTrue(cancelled.isPending)
            cancelled.cancel()
            XCTAssertFalse(cancelled.isPending)
            cancelled.cancel()  // idempotent
        }
        wait(for: [done], timeout: 10)
        XCTAssertEqual(fired.value, ["0ms-a", "0ms-b", "10ms", "20ms", "30ms"])
    }

    func testManyCancelledTimersAreCompactedAndOthersStillFire() throws {
        let loop = group.loops[0]
        let done = expectation(description: "survivor fired")
        let count = SyncBox(0)
        try LoopRunner.run(loop) {
            for i in 0..<5000 {
                let timer = loop.scheduleTimer(milliseconds: 60_000 + i) { count.mutate { $0 += 1 } }
                timer.cancel()
            }
            loop.scheduleTimer(milliseconds: 1) {
                count.mutate { $0 += 1 }
                done.fulfill()
            }
        }
        wait(for: [done], timeout: 10)
        XCTAssertEqual(count.value, 1)
    }

    func testExecuteFromOtherThreadsRunsOnTheLoopInOrder() throws {
        let loop = group.loops[1]
        XCTAssertFalse(loop.inEventLoop)
        let seen = SyncBox<[Int]>([])
        let offLoop = SyncBox(0)
        let done = expectation(description: "all tasks ran")
        done.expectedFulfillmentCount = 1000
        DispatchQueue.global().async {
            for i in 0..<1000 {
                loop.execute {
                    if !loop.inEventLoop { offLoop.mutate { $0 += 1 } }
                    seen.mutate { $0.append(i) }
                    done.fulfill()
                }
            }
        }
        wait(for: [done], timeout: 10)
        XCTAssertEqual(offLoop.value, 0)
        XCTAssertEqual(seen.value, Array(0..<1000))
    }

    func testInEventLoopIsPerLoop() throws {
        let loop0 = group.loops[0]
        let loop1 = group.loops[1]
        let (mine, other) = try LoopRunner.run(loop0) { (loop0.inEventLoop, loop1.inEventLoop) }
        XCTAssertTrue(mine)
        XCTAssertFalse(other)
    }

    func testLoopBoundCarriesLoopConfinedValues() throws {
        let loop = group.loops[0]
        final class Counter { var value = 0 }
        let bound = try LoopRunner.run(loop) { LoopBound(Counter(), loop: loop) }
        let result = try LoopRunner.run(loop) { () -> Int in
            bound.value.value += 41
            bound.value.value += 1
            return bound.value.value
        }
        XCTAssertEqual(result, 42)
    }

    func testShutdownClosesOpenConnectionsAndJoins() throws {
        let local = try EventLoopGroup(threads: 1)
        let loop = local.loops[0]
        let connected = expectation(description: "connected")
        let server = try LoopRunner.run(loop) { try ScriptedServer(loop: loop) { _, _ in } }
        let address = try LoopRunner.run(loop) { server.address }
        let client = try LoopRunner.run(loop) { () -> ScriptedClient in
            let client = ScriptedClient(loop: loop)
            client.connect(to: address) { _ in connected.fulfill() }
            return client
        }
        wait(for: [connected], timeout: 10)
        local.shutdown()
        local.shutdown()  // idempotent
        // The loop thread has been joined, so reading its objects here is race-free.
        XCTAssertEqual(client.handler.closeErrors, [.closed])
        XCTAssertTrue(client.connection?.isClosed ?? false)
        let ran = SyncBox(false)
        loop.execute { ran.value = true }  // dropped after stop
        XCTAssertFalse(ran.value)
    }
}
