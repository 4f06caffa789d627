import Foundation
import TaplineNet
import XCTest

/// A deadline moved later keeps one loop timer and fires at the last setting;
/// a disarmed one never fires.
final class DeadlineTimerTests: XCTestCase {
    private var group: EventLoopGroup!

    override func setUpWithError() throws {
        group = try EventLoopGroup(threads: 1)
    }

    override func tearDown() {
        group?.shutdown()
        group = nil
    }

    func testMovedDeadlineFiresOnceAtTheLastSetting() throws {
        let loop = group.loops[0]
        let fired = expectation(description: "expired")
        let firedAt = SyncBox<Date?>(nil)
        let holder = SyncBox<LoopBound<DeadlineTimer>?>(nil)
        let armedAt = Date()
        try LoopRunner.run(loop) {
            let timer = DeadlineTimer(loop: loop) {
                firedAt.value = Date()
                fired.fulfill()
            }
            holder.value = LoopBound(timer, loop: loop)
            timer.arm(milliseconds: 20)
            timer.arm(milliseconds: 5)    // earlier: reschedules
            timer.arm(milliseconds: 150)  // later: the pending timer re-arms itself when it fires
        }
        wait(for: [fired], timeout: 10)
        let elapsed = try XCTUnwrap(firedAt.value).timeIntervalSince(armedAt)
        XCTAssertGreaterThanOrEqual(elapsed, 0.14, "fired before the last deadline")
        try LoopRunner.run(loop) { XCTAssertEqual(holder.value?.value.isArmed, false) }
    }

    func testDisarmedDeadlineDoesNotFire() throws {
        let loop = group.loops[0]
        let count = SyncBox(0)
        let holder = SyncBox<LoopBound<DeadlineTimer>?>(nil)
        try LoopRunner.run(loop) {
            let timer = DeadlineTimer(loop: loop) { count.mutate { $0 += 1 } }
            holder.value = LoopBound(timer, loop: loop)
            timer.arm(milliseconds: 10)
            timer.disarm()
        }
        let later = expectation(description: "a later timer ran")
        try LoopRunner.run(loop) { _ = loop.scheduleTimer(milliseconds: 60) { later.fulfill() } }
        wait(for: [later], timeout: 10)
        XCTAssertEqual(count.value, 0)
    }
}
