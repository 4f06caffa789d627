import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import TaplineCapture
@testable import TaplineCLI
import TaplineFlow
import TaplineReplay
import TaplineWire
import XCTest

/// The `--report` JSON and `--junit` XML writers, and the latency percentiles.
final class ReplayReportTests: XCTestCase {
    private func flow(_ id: UInt64, _ target: String, status: Int = 200, error: RecordedError? = nil) -> CapturedFlow {
        var flow = CapturedFlow(id: FlowID(id), connection: ConnectionID(1), kind: .http, scheme: "http",
                                authority: "127.0.0.1:8080", started: Timestamp(microseconds: 0), sessionDirectory: "/nonexistent")
        flow.request = HTTPRequestHead(method: "GET", target: target)
        flow.response = error == nil ? HTTPResponseHead(status: status) : nil
        flow.error = error
        flow.timings.requestStart = Timestamp(microseconds: 0)
        flow.timings.done = Timestamp(microseconds: 12_000)
        flow.ended = flow.timings.done
        return flow
    }

    private func outcome(_ source: CapturedFlow, _ replay: CapturedFlow, _ verdict: ReplayVerdict,
                         _ differences: [FlowDifference]) -> ReplayFlowOutcome {
        ReplayFlowOutcome(sourceID: source.id, replayID: replay.id, method: source.request?.method ?? "-", url: source.url,
                          verdict: verdict, error: replay.error, recordedMilliseconds: source.durationMilliseconds,
                          replayedMilliseconds: replay.durationMilliseconds, differences: differences,
                          differenceCount: differences.count)
    }

    private func result() -> ReplayResult {
        let failure = RecordedError(kind: "upstream-unreachable", message: "127.0.0.1:1 refused the connection")
        return ReplayResult(outcomes: [
            outcome(flow(1, "/a"), flow(1, "/a"), .equal, []),
            outcome(flow(2, "/b?x=<&>"), flow(2, "/b?x=<&>", status: 503), .different, [.status(a: 200, b: 503)]),
            outcome(flow(3, "/c"), flow(3, "/c", error: failure), .failed,
                    [.outcome(a: nil, b: "upstream-unreachable"), .status(a: 200, b: nil)]),
        ], skipped: [ReplaySkippedFlow(source: flow(4, "/ws"), reason: ReplaySkipReason("its WebSocket handshake did not open a WebSocket"))],
        latency: [EndpointLatency(endpoint: "GET /a", count: 1, recorded: LatencyPercentiles([12]), replayed: LatencyPercentiles([12]))])
    }

    private func session() throws -> CapturedSession {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("replay-report-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: directory) }
        let metadata = #"{"format":"tapline-capture","version":2,"id":"20261205-000000-abcd","started":"2026-12-05T00:00:00.000000Z","ended":"2026-12-05T00:00:01.000000Z","tapline":"test","proxy":{}}"#
        try metadata.write(toFile: directory + "/session.json", atomically: true, encoding: .utf8)
        try "".write(toFile: directory + "/events.jsonl", atomically: true, encoding: .utf8)
        return try CapturedSession.open(directory: directory)
    }

    func testJSONReportHasTheDocumentedShape() throws {
        let text = ReplayReportJSON.text(result(), source: try session(), replaySessionID: "20261205-000001-ef01")
        let document = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        XCTAssertEqual(document["matched"] as? Bool, false)
        XCTAssertEqual(document["summary"] as? [String: Int], ["sent": 3, "equal": 1, "different": 1, "failed": 1, "skipped": 1])
        let flows = try XCTUnwrap(document["flows"] as? [[String: Any]])
        XCTAssertEqual(flows.map { $0["result"] as? String }, ["equal", "different", "failed"])
        XCTAssertEqual((flows[2]["error"] as? [String: String])?["kind"], "upstream-unreachable")
        XCTAssertEqual((flows[1]["differences"] as? [[String: Any]])?.first?["kind"] as? String, "status")
        XCTAssertEqual((document["skipped"] as? [[String: Any]])?.first?["reason"] as? String, "its WebSocket handshake did not open a WebSocket")
        XCTAssertEqual((document["replay"] as? [String: String])?["session"], "20261205-000001-ef01")
        let latency = try XCTUnwrap((document["latency"] as? [[String: Any]])?.first)
        XCTAssertEqual(latency["endpoint"] as? String, "GET /a")
    }

    /// A result of many flows, each differing (so each outcome carries its differences).
    private func largeResult(flows: Int) -> ReplayResult {
        ReplayResult(outcomes: (1...UInt64(flows)).map { id in
            outcome(flow(id, "/items/\(id)"), flow(id, "/items/\(id)", status: 503), .different, [.status(a: 200, b: 503)])
        }, skipped: [], latency: [])
    }

    /// The report of a large replay goes out in pieces (it is never whole in memory), and
    /// they make up exactly the document `JSONWriter` writes for it, empty lists included.
    func testJSONReportOfManyFlowsIsWrittenInPiecesThatMakeUpTheWholeDocument() throws {
        let source = try session()
        let result = largeResult(flows: 3_000)
        var pieces: [[UInt8]] = []
        ReplayReportJSON.write(result, source: source, replaySessionID: nil) { pieces.append($0) }
        XCTAssertGreaterThan(pieces.count, 5)
        XCTAssertTrue(pieces.dropLast().allSatisfy { $0.count >= ReplayReportJSON.pieceBytes })
        let text = String(decoding: pieces.joined(), as: UTF8.self)
        XCTAssertEqual(text, ReplayReportJSON.text(result, source: source, replaySessionID: nil))
        let document = try JSONParser.parse(text)
        XCTAssertEqual(text, JSONWriter.text(document))
        XCTAssertEqual(document["flows"]?.arrayValue?.count, 3_000)
        XCTAssertEqual(document["skipped"], .array([]))
        XCTAssertTrue(text.contains("\"skipped\": []"))
        // And the small one, with every list filled.
        let small = ReplayReportJSON.text(self.result(), source: source, replaySessionID: "20261205-000001-ef01")
        XCTAssertEqual(small, JSONWriter.text(try JSONParser.parse(small)))
    }

    /// The JUnit report of a large replay goes out in pieces too, a test case per line group.
    func testJUnitOfManyFlowsIsWrittenInPieces() throws {
        let source = try session()
        let result = largeResult(flows: 3_000)
        var pieces: [[UInt8]] = []
        ReplayJUnitXML.write(result, source: source) { pieces.append($0) }
        XCTAssertGreaterThan(pieces.count, 5)
        let xml = String(decoding: pieces.joined(), as: UTF8.self)
        XCTAssertEqual(xml, ReplayJUnitXML.text(result, source: source))
        let document = try XMLDocument(xmlString: xml)
        XCTAssertEqual(try document.nodes(forXPath: "//testcase/failure").count, 3_000)
        XCTAssertTrue(xml.hasSuffix("  </testsuite>\n</testsuites>\n"))
    }

    func testJUnitHasOneTestcasePerFlowWithFailuresErrorsAndSkips() throws {
        let xml = ReplayJUnitXML.text(result(), source: try session())
        let document = try XMLDocument(xmlString: xml)
        let suite = try XCTUnwrap(try document.nodes(forXPath: "/testsuites/testsuite").first as? XMLElement)
        XCTAssertEqual(suite.attribute(forName: "tests")?.stringValue, "4")
        XCTAssertEqual(suite.attribute(forName: "failures")?.stringValue, "1")
        XCTAssertEqual(suite.attribute(forName: "errors")?.stringValue, "1")
        XCTAssertEqual(suite.attribute(forName: "skipped")?.stringValue, "1")
        let failure = try XCTUnwrap(try document.nodes(forXPath: "//testcase/failure").first)
        XCTAssertEqual(failure.stringValue, "status: 200 -> 503")
        let names = try document.nodes(forXPath: "//testcase/@name").compactMap(\.stringValue)
        XCTAssertEqual(names[1], "flow 2 GET http://127.0.0.1:8080/b?x=<&>")
        XCTAssertEqual(try document.nodes(forXPath: "//testcase/error/@message").first?.stringValue,
                       "upstream-unreachable: 127.0.0.1:1 refused the connection")
    }

    func testPercentilesByNearestRank() throws {
        let values = (1...100).map(Double.init)
        let percentiles = try XCTUnwrap(LatencyPercentiles(values.shuffled()))
        XCTAssertEqual([percentiles.p50, percentiles.p90, percentiles.p99], [50, 90, 99])
        XCTAssertEqual(LatencyPercentiles([7]).map { [$0.p50, $0.p99] }, [7, 7])
        XCTAssertNil(LatencyPercentiles([]))
    }

    func testProgressLineSaysDoneTotalRateErrorsAndETA() {
        var progress = ReplayProgress(total: 500)
        progress.done = 120
        progress.failed = 2
        XCTAssertEqual(ReplayProgressLine.text(progress, elapsedSeconds: 2), "replay: 120/500 flows, 60.0/s, 2 errors, ETA 6s")
        XCTAssertEqual(ReplayProgressLine.text(ReplayProgress(total: 3), elapsedSeconds: 0), "replay: 0/3 flows, 0.0/s, 0 errors, ETA ?")
        // A flow found unsendable when its turn came is done, and skipped, not an error.
        progress.skipped = 1
        progress.done += 1
        XCTAssertEqual(ReplayProgressLine.text(progress, elapsedSeconds: 2), "replay: 121/500 flows, 60.5/s, 2 errors, 1 skipped, ETA 6s")
    }
}
