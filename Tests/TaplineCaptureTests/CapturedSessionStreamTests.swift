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

    /// The assembler remembers the last flow a line found (`lastPosition`); flows taken
    /// out move others (`takeFlow` swaps the last into the gap). Lines of a flow right
    /// before and after another is taken, and of flows in turn, land in their own flow;
    /// a line of the taken flow right after its end lands in none.
    func testLinesAroundAFlowTakenOutLandInTheirOwnFlows() throws {
        let directory = try makeSession()
        let flowLines: [String] = [
            #"{"t":1,"type":"connectionOpened","conn":7,"client":"127.0.0.1:1","listener":"127.0.0.1:2"}"#,
        ] + (11...13).flatMap { flow in [
            #"{"t":2,"type":"flowStarted","flow":\#(flow),"conn":7,"kind":"http","scheme":"http","authority":"a\#(flow)"}"#,
            #"{"t":3,"type":"requestHead","flow":\#(flow),"method":"GET","target":"/\#(flow)","version":"HTTP/1.1","headers":[]}"#,
        ] } + [
            #"{"t":4,"type":"body","flow":13,"dir":"response","seg":1,"off":0,"len":3}"#,
            #"{"t":5,"type":"flowEnded","flow":11,"bytesFromClient":0,"bytesFromServer":0}"#,
            #"{"t":5,"type":"extension","flow":11,"name":"note","value":"after its end"}"#,
            #"{"t":6,"type":"body","flow":13,"dir":"response","seg":1,"off":3,"len":4}"#,
            #"{"t":7,"type":"responseHead","flow":12,"status":204,"reason":"No Content","version":"HTTP/1.1","headers":[]}"#,
            #"{"t":8,"type":"responseHead","flow":13,"status":200,"reason":"OK","version":"HTTP/1.1","headers":[]}"#,
            #"{"t":9,"type":"body","flow":13,"dir":"response","seg":1,"off":7,"len":5}"#,
            #"{"t":10,"type":"flowEnded","flow":13,"bytesFromClient":0,"bytesFromServer":12}"#,
            #"{"t":11,"type":"flowEnded","flow":12,"bytesFromClient":0,"bytesFromServer":0}"#,
            "",  // the last line's newline
        ]
        try CaptureTestSupport.writeLines(flowLines, to: directory + "/events.jsonl")

        let opened = try CapturedSession.open(directory: directory)
        let (flows, session, index) = try streamed(directory)
        XCTAssertEqual(session.warnings, [])
        XCTAssertEqual(flows.map(\.0.id), [FlowID(11), FlowID(13), FlowID(12)])
        for (flow, position) in flows {
            var expected = try XCTUnwrap(opened.flow(flow.id.rawValue))
            if flow.id == FlowID(11) {  // `open` keeps the line after its end; `stream` drops it
                XCTAssertEqual(expected.extensions["note"], .string("after its end"))
                expected.extensions = [:]
            }
            XCTAssertEqual(flow, expected, "flow \(flow.id)")
            XCTAssertEqual(flow.extensions, [:], "flow \(flow.id)")
            XCTAssertEqual(try index.flow(at: position), withoutConnectionFacts(flow), "flow \(flow.id) read again")
            XCTAssertEqual(flow.authority, "a\(flow.id.rawValue)")
            XCTAssertEqual(flow.request?.target, "/\(flow.id.rawValue)")
        }
        let thirteen = try XCTUnwrap(opened.flow(13))
        XCTAssertEqual(thirteen.responseBody.extents.map(\.length), [3, 4, 5])
        XCTAssertEqual(thirteen.response?.status, 200)
        XCTAssertEqual(opened.flow(12)?.response?.status, 204)
        XCTAssertEqual(opened.flow(12)?.responseBody.extents, [])
        XCTAssertEqual(opened.flow(11)?.response, nil)
    }

    /// The assembler finds a lone flow by its id and places flows by id only while two or
    /// more are in progress (`flowPositions`): lines as the count goes 1 → 2 → 1 (the one
    /// left first and last in `flows`), a flowStarted repeated while alone and while not,
    /// and two flows that never end land in their own flows; `open` sorts flows that
    /// started out of id order, and `stream` hands the unended ones over in id order.
    func testLinesAsOneFlowAndThenSeveralAreInProgressLandInTheirOwnFlows() throws {
        let directory = try makeSession()
        func started(_ flow: Int, _ authority: String) -> String {
            #"{"t":2,"type":"flowStarted","flow":\#(flow),"conn":7,"kind":"http","scheme":"http","authority":"\#(authority)"}"#
        }
        func request(_ flow: Int) -> String {
            #"{"t":3,"type":"requestHead","flow":\#(flow),"method":"GET","target":"/\#(flow)","version":"HTTP/1.1","headers":[]}"#
        }
        func response(_ flow: Int, _ status: Int) -> String {
            #"{"t":4,"type":"responseHead","flow":\#(flow),"status":\#(status),"reason":"","version":"HTTP/1.1","headers":[]}"#
        }
        func ended(_ flow: Int) -> String { #"{"t":5,"type":"flowEnded","flow":\#(flow),"bytesFromClient":0,"bytesFromServer":0}"# }
        let flowLines = [
            #"{"t":1,"type":"connectionOpened","conn":7,"client":"127.0.0.1:1","listener":"127.0.0.1:2"}"#,
            started(21, "old"), request(21), started(21, "a21"),  // alone: started over
            request(21), started(22, "a22"), request(22), response(21, 201),
            ended(21),  // 22 alone again
            response(22, 202), started(20, "a20"), started(20, "a20"),  // two: 20 started over
            request(20), ended(22),  // 20 alone
            started(23, "a23"), response(20, 200),
            ended(20),  // 23 alone, moved to the first place
            request(23), response(23, 203), started(24, "a24"), request(24), response(24, 204),
            "",  // the last line's newline; 23 and 24 never end
        ]
        try CaptureTestSupport.writeLines(flowLines, to: directory + "/events.jsonl")

        let opened = try CapturedSession.open(directory: directory)
        XCTAssertEqual(opened.warnings, [])
        XCTAssertEqual(opened.flows.map(\.id.rawValue), [20, 21, 22, 23, 24])
        let (flows, session, index) = try streamed(directory)
        XCTAssertEqual(session.warnings, [])
        XCTAssertEqual(flows.map(\.0.id.rawValue), [21, 22, 20, 23, 24])
        for (flow, position) in flows {
            let id = flow.id.rawValue
            XCTAssertEqual(flow, opened.flow(id), "flow \(id)")
            XCTAssertEqual(try index.flow(at: position), withoutConnectionFacts(flow), "flow \(id) read again")
            XCTAssertEqual(flow.authority, "a\(id)")
            XCTAssertEqual(flow.request?.target, "/\(id)")
            XCTAssertEqual(flow.response?.status, 180 + Int(id))
            XCTAssertEqual(flow.ended != nil, id <= 22, "flow \(id)")
        }
    }

    /// 2,000 flows recorded 50 at a time (each one's four lines 50 lines apart; every
    /// 97th with a 70 KB response head, so that its lines are read one by one, not as a
    /// span) in an index whose line table has blocks of 64 bytes and chunks of 4 flows:
    /// the index and a reader made from it (`makeReader`, which shares the table) read
    /// every flow as `open` does, in turn and after the index closed.
    func testAnIndexOfSmallBlocksAndItsReaderReadManyInterleavedFlowsAsOpenDoes() throws {
        let directory = try makeSession()
        var lines = [#"{"t":1,"type":"connectionOpened","conn":7,"client":"127.0.0.1:1","listener":"127.0.0.1:2"}"#]
        var linesOfFlow: [[Int]] = []  // line numbers (0-based) per flow, flow 1 first
        let flowCount = 2_000
        for batch in stride(from: 1, through: flowCount, by: 50) {
            let flows = batch..<(batch + 50)
            for flow in flows {
                linesOfFlow.append([lines.count])
                lines.append(#"{"t":2,"type":"flowStarted","flow":\#(flow),"conn":7,"kind":"http","scheme":"http","authority":"a\#(flow)"}"#)
            }
            for flow in flows {
                linesOfFlow[flow - 1].append(lines.count)
                lines.append(#"{"t":3,"type":"requestHead","flow":\#(flow),"method":"GET","target":"/\#(flow)","version":"HTTP/1.1","headers":[]}"#)
            }
            for flow in flows {
                linesOfFlow[flow - 1].append(lines.count)
                let headers = flow % 97 == 0 ? #"[["x-big",""# + String(repeating: "b", count: 70_000) + #""]]"# : "[]"
                lines.append(#"{"t":4,"type":"responseHead","flow":\#(flow),"status":200,"reason":"OK","version":"HTTP/1.1","headers":\#(headers)}"#)
            }
            for flow in flows {
                linesOfFlow[flow - 1].append(lines.count)
                lines.append(#"{"t":5,"type":"flowEnded","flow":\#(flow),"bytesFromClient":0,"bytesFromServer":0}"#)
            }
        }
        try CaptureTestSupport.writeLines(lines + [""], to: directory + "/events.jsonl")
        var offsets: [UInt64] = []
        var offset: UInt64 = 0
        for line in lines {
            offsets.append(offset)
            offset += UInt64(line.utf8.count) + 1
        }

        let index = CapturedFlowIndex(directory: directory, lineTable: CapturedFlowLineTable(blockSize: 64, chunkShift: 2))
        for numbers in linesOfFlow {
            _ = index.add(lines: numbers.map { (offsets[$0], UInt32(lines[$0].utf8.count)) })
        }
        index.finishAdding()
        let reader = index.makeReader()
        let opened = try CapturedSession.open(directory: directory)
        XCTAssertEqual(opened.warnings, [])
        XCTAssertEqual(opened.flows.count, flowCount)
        XCTAssertEqual(index.count, flowCount)
        XCTAssertEqual(reader.count, flowCount)
        for position in 0..<flowCount {
            let expected = withoutConnectionFacts(try XCTUnwrap(opened.flow(UInt64(position + 1))))
            XCTAssertEqual(try index.flow(at: position), expected, "flow \(position + 1)")
            XCTAssertEqual(try reader.flow(at: flowCount - 1 - position).id, FlowID(UInt64(flowCount - position)))
        }
        XCTAssertGreaterThan(opened.flow(97)?.response?.headers.byteCount ?? 0, 70_000, "flow 97 is read line by line")
        index.close()
        for position in 0..<flowCount {
            let expected = withoutConnectionFacts(try XCTUnwrap(opened.flow(UInt64(position + 1))))
            XCTAssertEqual(try reader.flow(at: position), expected, "flow \(position + 1) through the reader")
        }
    }

    /// The flow as a `.replaySend` read gives it: without where it went upstream.
    private func withoutUpstreamFacts(_ flow: CapturedFlow) -> CapturedFlow {
        var flow = withoutConnectionFacts(flow)
        flow.serverAddress = nil
        flow.upstreamReused = false
        flow.upstreamTLS = nil
        return flow
    }

    func testAReplaySendReadIsTheWholeFlowWithoutWhereItWentUpstream() throws {
        let directory = try makeSession()
        let (flows, _, index) = try streamed(directory)
        XCTAssertTrue(flows.contains { $0.0.upstreamTLS != nil } && flows.contains { $0.0.upstreamReused },
                      "the session records where its flows went upstream")
        for (flow, position) in flows {
            XCTAssertEqual(try index.flow(at: position, detail: .replaySend), withoutUpstreamFacts(flow), "flow \(flow.id)")
            XCTAssertEqual(try index.flow(at: position), withoutConnectionFacts(flow), "flow \(flow.id) whole again")
        }
    }

    func testAStreamOfReplaySendDetailKeepsTheHeadersAndLeavesOutWhereFlowsWentUpstream() throws {
        let directory = try makeSession()
        let opened = try CapturedSession.open(directory: directory)
        var flows: [CapturedFlow] = []
        let (session, _) = try CapturedSession.stream(directory: directory, detail: .replaySend) { flow, _ in flows.append(flow) }
        XCTAssertEqual(flows.map(\.id).sorted(), opened.flows.map(\.id))
        for flow in flows {
            var expected = try XCTUnwrap(opened.flow(flow.id.rawValue))
            expected.serverAddress = nil
            expected.upstreamReused = false
            expected.upstreamTLS = nil
            XCTAssertEqual(flow, expected, "flow \(flow.id)")
        }
        XCTAssertEqual(session.warnings, opened.warnings)
    }

    func testAReplaySendReadFindsAFlowWhoseLastLineIsItsUpstreamConnected() throws {
        let directory = try makeSession()
        let eventsPath = directory + "/events.jsonl"
        let lines = try CaptureTestSupport.lines(of: eventsPath)
        let connected = try XCTUnwrap(lines.firstIndex { $0.contains("\"type\":\"upstreamConnected\"") && $0.contains("\"flow\":2,") })
        let cut = lines.enumerated().filter { $0.offset <= connected || !$0.element.contains("\"flow\":2,") }.map(\.element)
        try CaptureTestSupport.writeLines(cut, to: eventsPath)

        let (flows, _, index) = try streamed(directory)
        let (unended, position) = try XCTUnwrap(flows.first { $0.0.id == FlowID(2) })
        XCTAssertEqual(unended.serverAddress, "10.1.2.3:80")
        XCTAssertNil(unended.ended)
        XCTAssertEqual(try index.flow(at: position, detail: .replaySend), withoutUpstreamFacts(unended))
    }

    func testOnlyALineThatStartsAsAWriterStartsAnUpstreamConnectedIsOne() {
        func starts(_ line: String) -> Bool { Array(line.utf8).withUnsafeBufferPointer(CapturedSessionAssembler.startsAsUpstreamConnected) }
        XCTAssertTrue(starts(#"{"t":1796542367296923,"type":"upstreamConnected","flow":1,"server":"127.0.0.1:80","reused":false}"#))
        XCTAssertTrue(starts(#"{"t":-5,"type":"upstreamConnected","flow":1}"#), "a time before 1970")
        XCTAssertTrue(starts(#"{"t":12345678901234567,"type":"upstreamConnected","flow":1}"#))
        XCTAssertFalse(starts(#"{"t":1796542367296923,"type":"requestHead","flow":1,"method":"GET"}"#))
        XCTAssertFalse(starts(#"{"t":17965423672969x3,"type":"upstreamConnected","flow":1}"#), "not a time")
        XCTAssertFalse(starts(#"{"t":1,"type":"upstreamConnected"}"#), "nothing after the type: no flow")
        XCTAssertFalse(starts(#"{"t":1,"type":"upstreamConnectedLater","flow":1}"#))
        XCTAssertFalse(starts(#"{"t":1,"type":"requestHead","flow":1,"note":"type":"upstreamConnected","}"#))
        XCTAssertFalse(starts(#"{"type":"upstreamConnected","t":1,"flow":1}"#), "another writer's order is read as usual")
        XCTAssertFalse(starts(#"{ "t":1,"type":"upstreamConnected","flow":1}"#))
        XCTAssertFalse(starts(#"{"t":1"#))
        XCTAssertFalse(starts(""))
    }

    func testAFlowWhoseLastLineNoLongerReadsIsNotReadAgainWhateverTheDetail() throws {
        let directory = try makeSession()
        let (flows, _, index) = try streamed(directory)
        let eventsPath = directory + "/events.jsonl"
        var lines = try CaptureTestSupport.lines(of: eventsPath)
        let ended = try XCTUnwrap(lines.firstIndex { $0.contains("\"type\":\"flowEnded\"") && $0.contains("\"flow\":2,") })
        lines[ended] = String(repeating: "x", count: lines[ended].utf8.count)  // the same bytes' room: offsets hold
        try CaptureTestSupport.writeLines(lines, to: eventsPath)
        index.close()
        let position = try XCTUnwrap(flows.first { $0.0.id == FlowID(2) }).1
        for detail in [CapturedFlowDetail.whole, .replaySend] {
            XCTAssertThrowsError(try index.flow(at: position, detail: detail), "\(detail)") { error in
                XCTAssertTrue("\(error)".contains("changed since it was read"), "\(error)")
            }
        }
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
