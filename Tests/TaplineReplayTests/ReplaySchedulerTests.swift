@testable import TaplineReplay
import XCTest

/// ReplayScheduler with a fake clock: times are plain microsecond values passed in.
final class ReplaySchedulerTests: XCTestCase {
    private func flows(_ offsetsMs: [Int64], first item: Int = 0, overlapping: Bool = false) -> [ReplayScheduledFlow] {
        offsetsMs.enumerated().map { index, offset in
            ReplayScheduledFlow(item: item + index, offsetMicroseconds: offset * 1_000, overlapsPrevious: overlapping && index > 0)
        }
    }

    private func sent(_ actions: [ReplaySchedulerAction]) -> [ReplayDispatch] {
        actions.compactMap { if case .send(let dispatch) = $0 { return dispatch } else { return nil } }
    }

    private func d(_ connection: Int, _ position: Int, round: Int = 0) -> ReplayDispatch {
        ReplayDispatch(round: round, connection: connection, position: position)
    }

    func testPaceNoneSendsEachConnectionsFlowsBackToBackUpToTheConcurrency() {
        var scheduler = ReplayScheduler(connections: [flows([0, 5]), flows([1], first: 2), flows([2], first: 3)],
                                        pacing: ReplayPacing(concurrency: 2))
        scheduler.start(at: 0)
        XCTAssertEqual(scheduler.actions(at: 0), [.send(d(0, 0)), .send(d(1, 0))]) // two connections; flow 2 waits for flow 1
        scheduler.finished(d(1, 0), at: 10)
        XCTAssertEqual(scheduler.actions(at: 10), [.send(d(2, 0))]) // connection 1 done: connection 2 starts
        scheduler.finished(d(0, 0), at: 20)
        XCTAssertEqual(scheduler.actions(at: 20), [.send(d(0, 1))])
        scheduler.finished(d(0, 1), at: 30)
        scheduler.finished(d(2, 0), at: 30)
        XCTAssertEqual(scheduler.actions(at: 30), [.finished])
        XCTAssertEqual(scheduler.totalDispatches, 4)
    }

    func testOverlappingFlowsOfAConnectionGoTogether() {
        var scheduler = ReplayScheduler(connections: [flows([0, 1, 2], overlapping: true)], pacing: ReplayPacing())
        scheduler.start(at: 0)
        XCTAssertEqual(sent(scheduler.actions(at: 0)), [d(0, 0), d(0, 1), d(0, 2)])
    }

    func testPaceRecordedWaitsForEachOffsetScaledBySpeed() {
        var scheduler = ReplayScheduler(connections: [flows([0]), flows([100], first: 1), flows([300], first: 2)],
                                        pacing: ReplayPacing(pace: .recorded, speed: 2, concurrency: 1))
        scheduler.start(at: 1_000)
        // concurrency does not apply to recorded pacing: all three connections are active
        XCTAssertEqual(scheduler.actions(at: 1_000), [.send(d(0, 0)), .wait(untilMicroseconds: 51_000)])
        XCTAssertEqual(scheduler.actions(at: 50_999), [.wait(untilMicroseconds: 51_000)])
        XCTAssertEqual(scheduler.actions(at: 51_000), [.send(d(1, 0)), .wait(untilMicroseconds: 151_000)])
        XCTAssertEqual(scheduler.actions(at: 151_000), [.send(d(2, 0))])
    }

    func testRateSpacesStarts() {
        var scheduler = ReplayScheduler(connections: [flows([0, 0, 0], overlapping: true)],
                                        pacing: ReplayPacing(flowsPerSecond: 10))
        scheduler.start(at: 0)
        XCTAssertEqual(scheduler.actions(at: 0), [.send(d(0, 0)), .wait(untilMicroseconds: 100_000)])
        XCTAssertEqual(scheduler.actions(at: 100_000), [.send(d(0, 1)), .wait(untilMicroseconds: 200_000)])
        XCTAssertEqual(scheduler.actions(at: 250_000), [.send(d(0, 2))])
    }

    func testRepeatRunsTheSelectionAgainAndRecordedRoundsStartAfterThePreviousOne() {
        var scheduler = ReplayScheduler(connections: [flows([0, 10])], pacing: ReplayPacing(pace: .recorded, repeatCount: 2))
        XCTAssertEqual(scheduler.totalDispatches, 4)
        scheduler.start(at: 0)
        XCTAssertEqual(scheduler.actions(at: 0), [.send(d(0, 0))]) // flow 2 waits for flow 1 (same connection)
        scheduler.finished(d(0, 0), at: 5_000)
        XCTAssertEqual(scheduler.actions(at: 5_000), [.wait(untilMicroseconds: 10_000)])
        XCTAssertEqual(scheduler.actions(at: 10_000), [.send(d(0, 1))])
        scheduler.finished(d(0, 1), at: 20_000)
        // round 2 starts when round 1 finished: its offsets count from 20 ms
        XCTAssertEqual(scheduler.actions(at: 20_000), [.send(d(0, 0, round: 1))])
        scheduler.finished(d(0, 0, round: 1), at: 21_000)
        XCTAssertEqual(scheduler.actions(at: 21_000), [.wait(untilMicroseconds: 30_000)])
        XCTAssertEqual(scheduler.actions(at: 30_000), [.send(d(0, 1, round: 1))])
        XCTAssertTrue(scheduler.connectionIsDone(d(0, 0)))
        scheduler.finished(d(0, 1, round: 1), at: 31_000)
        XCTAssertEqual(scheduler.actions(at: 31_000), [.finished])
    }

    /// Only a finished flow's own connection moves on (the one whose next flow waited for
    /// it), and connections unblocked together send in start order, whatever order they finished in.
    func testAFinishedFlowUnblocksOnlyTheFlowAfterItInStartOrder() {
        let connection0 = flows([0, 0], overlapping: true) + flows([0], first: 2)
        var scheduler = ReplayScheduler(connections: [connection0, flows([0, 0], first: 3), flows([0], first: 5)],
                                        pacing: ReplayPacing(concurrency: 2))
        scheduler.start(at: 0)
        XCTAssertEqual(scheduler.actions(at: 0), [.send(d(0, 0)), .send(d(0, 1)), .send(d(1, 0))])
        scheduler.finished(d(0, 0), at: 1) // flow 3 waits for flow 2, not flow 1
        XCTAssertEqual(scheduler.actions(at: 1), [])
        scheduler.finished(d(1, 0), at: 2)
        scheduler.finished(d(0, 1), at: 2)
        XCTAssertEqual(scheduler.actions(at: 2), [.send(d(0, 2)), .send(d(1, 1))])
        scheduler.finished(d(1, 1), at: 3) // connection 1 done: connection 2 starts
        XCTAssertEqual(scheduler.actions(at: 3), [.send(d(2, 0))])
        scheduler.finished(d(0, 2), at: 4)
        scheduler.finished(d(2, 0), at: 4)
        XCTAssertEqual(scheduler.actions(at: 4), [.finished])
    }

    func testNothingToSendFinishesAtOnce() {
        var scheduler = ReplayScheduler(connections: [], pacing: ReplayPacing())
        scheduler.start(at: 0)
        XCTAssertEqual(scheduler.actions(at: 0), [.finished])
    }

    /// `finished` says whether the flow's connection is done, as `connectionIsDone` then does
    /// (a flow reported twice, or one of a connection already done, changes nothing).
    func testFinishedSaysWhetherItsConnectionIsDone() {
        var scheduler = ReplayScheduler(connections: [flows([0, 0], overlapping: true), flows([0], first: 3)],
                                        pacing: ReplayPacing(concurrency: 2))
        scheduler.start(at: 0)
        XCTAssertEqual(scheduler.actions(at: 0), [.send(d(0, 0)), .send(d(0, 1)), .send(d(1, 0))])
        let reports: [(ReplayDispatch, Bool)] = [(d(0, 1), false), (d(0, 1), false), (d(1, 0), true), (d(0, 0), true),
                                                 (d(0, 0), true)]
        for (dispatch, done) in reports {
            XCTAssertEqual(scheduler.finished(dispatch, at: 1), done, "\(dispatch)")
            XCTAssertEqual(scheduler.connectionIsDone(dispatch), done, "\(dispatch)")
        }
        XCTAssertEqual(scheduler.actions(at: 1), [.finished])
    }
}
