import Foundation
import XCTest
import TaplineFlow
@testable import TaplineCapture

/// `CapturedSession.stream` (each flow handed over once, as it ends, none held) and the
/// `CapturedFlowIndex` it leaves, which reads any flow again: both must give the flows
/// `CapturedSession.open` gives.
final class CapturedSessionStreamTests: XCTestCase {
    /// A synthetic session (`CaptureTestSupport`, four interleaved flows) in a scratch
    /// directory that goes away after the test; its directory.
    private func makeSession() throws -> String {
        let root = try CaptureTestSupport.makeTemporaryDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(atPath: root) }
        return try CaptureTestSupport.makeSyntheticSession(root: root).0
    }

    private func streamed(_ directory: String) throws -> (flows: [(CapturedFlow, Int)], session: CapturedSession,
                                                          index: CapturedFlowIndex) {
        var flows: [(CapturedFlow, Int)] = []
        let (session, index) = try CapturedSession.stream(directory: directory) { flows.append(($0, $1)) }
        return (flows, session, index)
    }

    /// The flow without its connection's facts, which the index does not read again.
    private func withoutConnectionFacts(_ flow: CapturedFlow) -> CapturedFlow {
        var flow = flow
        flow.clientAddress = nil
        flow.clientTLS = nil
        return flow
    }

    func testEveryFlowIsHandedOverOnceAsOpenReadsItAndTheIndexReadsItAgain() throws {
        let directory = try makeSession()
        let opened = try CapturedSession.open(directory: directory)
        let (flows, session, index) = try streamed(directory)
        XCTAssertEqual(flows.map(\.0.id).sorted(), opened.flows.map(\.id))
        XCTAssertEqual(Set(flows.map(\.1)), Set(0..<opened.flows.count), "one index position each")
        for (flow, position) in flows {
            XCTAssertEqual(flow, opened.flow(flow.id.rawValue), "flow \(flow.id)")
            XCTAssertEqual(try index.flow(at: position), withoutConnectionFacts(flow), "flow \(flow.id) read again")
        }
        XCTAssertTrue(session.flows.isEmpty)
        XCTAssertEqual(session.connections, opened.connections)
        XCTAssertEqual(session.warnings, opened.warnings)
    }

    func testAFlowThatNeverEndedComesLastAndALineAfterItsEndIsDroppedQuietly() throws {
        let directory = try makeSession()
        let eventsPath = directory + "/events.jsonl"
        var lines = try CaptureTestSupport.lines(of: eventsPath)
        let ended = try XCTUnwrap(lines.firstIndex { $0.contains("\"type\":\"flowEnded\"") && $0.contains("\"flow\":2,") })
        lines.remove(at: ended)
        let firstEnd = try XCTUnwrap(lines.firstIndex { $0.contains("\"type\":\"flowEnded\"") && $0.contains("\"flow\":1,") })
        lines.insert(#"{"t":1,"type":"extension","flow":1,"name":"note","value":"after its end"}"#, at: firstEnd + 1)
        try CaptureTestSupport.writeLines(lines, to: eventsPath)

        let (flows, session, index) = try streamed(directory)
        XCTAssertEqual(flows.last?.0.id, FlowID(2), "the flow that never ended is handed over at the end")
        XCTAssertNil(flows.last?.0.ended)
        XCTAssertEqual(session.warnings, [], "the late extension line is not a damaged line")
        let unended = try XCTUnwrap(flows.last)
        XCTAssertEqual(try index.flow(at: unended.1).id, FlowID(2))
        XCTAssertNil(try index.flow(at: unended.1).ended)
    }

    func testTheIndexSaysWhenEventsJSONLChangedUnderIt() throws {
        let directory = try makeSession()
        let (flows, _, index) = try streamed(directory)
        try "".write(toFile: directory + "/events.jsonl", atomically: false, encoding: .utf8)
        index.close()
        XCTAssertThrowsError(try index.flow(at: flows[0].1)) { error in
            XCTAssertTrue("\(error)".contains("changed since it was read"), "\(error)")
        }
    }
}
