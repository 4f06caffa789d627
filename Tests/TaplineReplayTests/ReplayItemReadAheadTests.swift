import Foundation
import XCTest
import TaplineCapture
import TaplineFlow
@testable import TaplineReplay

/// `ReplayItemReadAhead` hands the loop the very items `ReplayPlan.item` makes, each of
/// the first round at most once: those it read ahead (up to its depth for each connection
/// in reach, its capacity in all), and nil for any other (not read yet, taken before, not
/// this runner's, a later round), which the loop then reads itself and the read-ahead
/// never hands out. `waitUntilIdle` waits for the thread exactly; no test sleeps.
final class ReplayItemReadAheadTests: XCTestCase {
    /// A closed session of `connections` recorded connections with `flowsEach` GETs each,
    /// written connection by connection (flow ids in order); its plan, streamed as
    /// `tapline replay` streams it.
    private func makePlan(connections: Int, flowsEach: Int) throws -> ReplayPlan {
        try makeSession(connections: connections, flowsEach: flowsEach).plan
    }

    /// The response body stored for flow `flow` of `count` bytes.
    private func responseBody(_ flow: Int, _ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &+ flow) }
    }

    /// `responseBytes`: the stored response body's size per flow (in flow id order; 0 for the rest).
    private func makeSession(connections: Int, flowsEach: Int,
                             responseBytes: [Int] = []) throws -> (plan: ReplayPlan, events: String) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("replay-read-ahead-\(UUID().uuidString)").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: root) }
        let writer = try CaptureWriter(root: root)
        writer.close()
        var lines: [String] = []
        var segment: [UInt8] = []
        var flow = 0
        for connection in 1...connections {
            for _ in 0..<flowsEach {
                flow += 1
                let t = flow * 10
                let count = flow <= responseBytes.count ? responseBytes[flow - 1] : 0
                lines += [
                    #"{"t":\#(t),"type":"flowStarted","flow":\#(flow),"conn":\#(connection),"kind":"http","scheme":"http","authority":"api.test:80"}"#,
                    #"{"t":\#(t + 1),"type":"requestHead","flow":\#(flow),"method":"GET","target":"/f/\#(flow)","version":"HTTP/1.1","headers":[["Host","api.test"]],"ended":true}"#,
                    #"{"t":\#(t + 2),"type":"responseHead","flow":\#(flow),"version":"HTTP/1.1","status":200,"reason":"OK","headers":[["Content-Length","\#(count)"]]}"#,
                ]
                if count > 0 {
                    lines.append(#"{"t":\#(t + 2),"type":"body","flow":\#(flow),"dir":"response","seg":1,"off":\#(segment.count),"len":\#(count)}"#)
                    segment += responseBody(flow, count)
                }
                lines += [
                    #"{"t":\#(t + 3),"type":"responseEnd","flow":\#(flow),"bodyBytes":\#(count),"truncated":false}"#,
                    #"{"t":\#(t + 4),"type":"flowEnded","flow":\#(flow)}"#,
                ]
            }
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: writer.directory + "/events.jsonl", atomically: false, encoding: .utf8)
        if !segment.isEmpty {
            try FileManager.default.createDirectory(atPath: writer.directory + "/bodies", withIntermediateDirectories: true)
            try Data(segment).write(to: URL(fileURLWithPath: writer.directory + "/bodies/000001.bin"))
        }
        let plan = try ReplayPlan.stream(directory: writer.directory, detail: .replayPlan, select: { _ in true },
                                         rules: ReplayTargetRules(), allowTruncated: false).plan
        XCTAssertTrue(plan.readsFromSession)
        XCTAssertEqual(plan.connections.count, connections)
        return (plan, writer.directory + "/events.jsonl")
    }

    private func target(_ read: ReplayItemReadAhead.Read?) -> String? {
        guard case .success(let item)? = read else { return nil }
        return item.source.request?.target
    }

    func testHandsOutTheItemsThePlanMakesEachOnceInTheOrderTheyAreSent() throws {
        let plan = try makePlan(connections: 3, flowsEach: 20)
        let readAhead = ReplayItemReadAhead(plan: plan, connections: plan.connections, concurrency: 2)
        defer { readAhead.stop() }
        // Depth 8 for the two connections in reach (concurrency 2, none started yet).
        XCTAssertEqual(readAhead.waitUntilIdle(), 16)
        var readAheadCount = 0
        // The loop's order: the connections side by side, each's flows in order.
        for position in 0..<20 {
            for connection in plan.connections.indices {
                let number = plan.connections[connection][position].item
                let expected = try plan.item(number).source.request?.target
                if let read = readAhead.take(number) {
                    XCTAssertEqual(target(read), expected, "item \(number)")
                    readAheadCount += 1
                }
                XCTAssertNil(readAhead.take(number), "item \(number) handed out twice")
                // (Taking from a connection further on brings one more into reach at once.)
                _ = readAhead.waitUntilIdle()
            }
        }
        // Every item: the third connection came into reach (concurrency 2 past the
        // furthest started) once the loop took from the first.
        XCTAssertEqual(readAheadCount, 60)
        XCTAssertEqual(readAhead.waitUntilIdle(), 0)
    }

    func testAnItemTakenBeforeItWasReadIsNeverHandedOut() throws {
        let plan = try makePlan(connections: 1, flowsEach: 30)
        let items = plan.connections[0].map(\.item)
        // Concurrency 8: a capacity of 64 items, so the thread is woken every 16 takes.
        let readAhead = ReplayItemReadAhead(plan: plan, connections: plan.connections, concurrency: 8)
        defer { readAhead.stop() }
        XCTAssertEqual(readAhead.waitUntilIdle(), 8)  // its depth: positions 0 to 7
        // The first item taken starts the connection, which wakes the thread: it reads position 8.
        XCTAssertNotNil(readAhead.take(items[0]))
        XCTAssertEqual(readAhead.waitUntilIdle(), 8)
        for position in 1...8 { XCTAssertNotNil(readAhead.take(items[position]), "position \(position)") }
        // Taken before the thread read them (in order, as the loop takes them): the loop
        // reads them itself. The sixteenth take since the thread slept wakes it, and it
        // reads on after them: positions 17 to 24.
        for position in 9...16 { XCTAssertNil(readAhead.take(items[position]), "position \(position)") }
        XCTAssertEqual(readAhead.waitUntilIdle(), 8)
        for position in 9...16 { XCTAssertNil(readAhead.take(items[position]), "position \(position) again") }
        let next = try XCTUnwrap(readAhead.take(items[17]))
        XCTAssertEqual(target(next), try plan.item(items[17]).source.request?.target)
    }

    func testLaterRoundsAndItemsOfAnotherShareAreTheLoopsToRead() throws {
        let plan = try makePlan(connections: 2, flowsEach: 4)
        // This runner's share is the second connection only.
        let readAhead = ReplayItemReadAhead(plan: plan, connections: [plan.connections[1]], concurrency: 1)
        defer { readAhead.stop() }
        XCTAssertEqual(readAhead.waitUntilIdle(), 4)
        for flow in plan.connections[0] { XCTAssertNil(readAhead.take(flow.item)) }
        for flow in plan.connections[1] { XCTAssertNotNil(readAhead.take(flow.item)) }
        // A second round (`--repeat`) of the same items.
        for flow in plan.connections[1] { XCTAssertNil(readAhead.take(flow.item)) }
        XCTAssertEqual(readAhead.waitUntilIdle(), 0)
    }

    func testAnItemThatCannotBeReadAgainIsHandedOutAsSkippedAsThePlanSkipsIt() throws {
        let (plan, events) = try makeSession(connections: 1, flowsEach: 3)
        // The session is damaged after it was planned: every line is now a run of "x".
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: events)[.size] as? Int)
        try Data(repeating: UInt8(ascii: "x"), count: size).write(to: URL(fileURLWithPath: events))
        let readAhead = ReplayItemReadAhead(plan: plan, connections: plan.connections, concurrency: 1)
        defer { readAhead.stop() }
        XCTAssertEqual(readAhead.waitUntilIdle(), 3)
        for flow in plan.connections[0] {
            guard case .failure(let skipped)? = readAhead.take(flow.item) else { return XCTFail("item \(flow.item) was read") }
            XCTAssertEqual(skipped.source.id, plan.sourceID(flow.item))
            XCTAssertThrowsError(try plan.item(flow.item)) { error in
                XCTAssertEqual((error as? ReplaySkippedFlow)?.reason.description, skipped.reason.description)
            }
        }
    }

    func testAStoredResponseBodyOfUpTo4KiBIsReadWithItsFlow() throws {
        let sizes = [100, 4_096, 4_097, 0]
        let (plan, _) = try makeSession(connections: 1, flowsEach: sizes.count, responseBytes: sizes)
        let readAhead = ReplayItemReadAhead(plan: plan, connections: plan.connections, concurrency: 1)
        defer { readAhead.stop() }
        XCTAssertEqual(readAhead.waitUntilIdle(), sizes.count)
        for (index, flow) in plan.connections[0].enumerated() {
            guard case .success(let item)? = readAhead.take(flow.item) else { return XCTFail("item \(flow.item) not read") }
            let size = sizes[Int(item.source.id.rawValue) - 1]
            XCTAssertEqual(item.source.responseBody.capturedBytes, UInt64(size), "flow \(index)")
            XCTAssertEqual(item.storedResponseBody, size > 0 && size <= 4_096 ? responseBody(Int(item.source.id.rawValue), size) : nil,
                           "a stored body of \(size) bytes")
            // The loop's own read leaves it to the comparison.
            XCTAssertNil(try plan.item(flow.item).storedResponseBody)
        }
    }

    func testStopEndsTheThreadAndDropsWhatWasNotTaken() throws {
        let plan = try makePlan(connections: 4, flowsEach: 50)
        let readAhead = ReplayItemReadAhead(plan: plan, connections: plan.connections, concurrency: 4)
        readAhead.stop()
        XCTAssertNil(readAhead.take(plan.connections[0][0].item))
        XCTAssertEqual(readAhead.waitUntilIdle(), 0)
    }
}
