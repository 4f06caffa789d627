import TaplineCapture
import TaplineFlow
@testable import TaplineReplay
import TaplineWire
import XCTest

/// SessionDiff over flows built in memory (no bodies in segment files: payloads inline).
final class SessionDiffTests: XCTestCase {
    private func flow(_ id: UInt64, _ target: String, method: String = "GET", status: Int? = 200,
                      headers: [(String, String)] = [], trailers: [(String, String)]? = nil,
                      durationMs: Int64 = 10, kind: FlowKind = .http,
                      messages: [CapturedWebSocketMessage] = []) -> CapturedFlow {
        var flow = CapturedFlow(id: FlowID(id), connection: ConnectionID(1), kind: kind, scheme: "http",
                                authority: "127.0.0.1:8080", started: Timestamp(microseconds: 0), sessionDirectory: "/nonexistent")
        flow.request = HTTPRequestHead(method: method, target: target)
        flow.response = status.map { HTTPResponseHead(status: $0, headers: HTTPHeaders(headers.map { (name: $0.0, value: $0.1) })) }
        flow.responseTrailers = trailers.map { HTTPHeaders($0.map { (name: $0.0, value: $0.1) }) }
        flow.timings.requestStart = Timestamp(microseconds: 0)
        flow.timings.done = Timestamp(microseconds: durationMs * 1000)
        flow.ended = flow.timings.done
        flow.webSocketMessages = messages
        return flow
    }

    private func message(_ fromClient: Bool, _ opcode: String, _ text: String) -> CapturedWebSocketMessage {
        CapturedWebSocketMessage(time: Timestamp(microseconds: 0), fromClient: fromClient, opcode: opcode,
                                 wireBytes: UInt64(text.utf8.count + 2), size: UInt64(text.utf8.count), compressed: false,
                                 inlinePayload: Array(text.utf8))
    }

    func testAReplayIsPairedWithItsSourceByLinkBeforeByRequest() throws {
        // two identical requests answered differently; the replay re-sent them in reverse order
        let a = [flow(1, "/same", status: 200), flow(2, "/same", status: 404)]
        var first = flow(1, "/same", status: 404)
        first.sourceFlow = FlowID(2)
        var second = flow(2, "/same", status: 200)
        second.sourceFlow = FlowID(1)
        var repeated = flow(3, "/same", status: 200)
        repeated.sourceFlow = FlowID(1) // a --repeat copy: its source is taken, it goes to the key passes
        let linked = try SessionDiff().report(a: a, b: [first, second, repeated], bReplaysA: true)
        XCTAssertEqual(linked.comparisons.map { [$0.a.id.rawValue, $0.b.id.rawValue] }, [[1, 2], [2, 1]])
        XCTAssertTrue(linked.comparisons.allSatisfy(\.isEqual))
        XCTAssertEqual(linked.unpairedB.map(\.id), [FlowID(3)])
        // without the link the same flows pair by request, in order: both differ
        let byKey = try SessionDiff().report(a: a, b: [first, second], bReplaysA: false)
        XCTAssertEqual(byKey.differentCount, 2)
    }

    func testEqualSessionsAndUnpairedFlowsOnEachSide() throws {
        let a = [flow(1, "/a"), flow(2, "/only-a")]
        let b = [flow(1, "/a"), flow(2, "/only-b", method: "POST")]
        let report = try SessionDiff().report(a: a, b: b)
        XCTAssertEqual(report.comparisons.map(\.isEqual), [true])
        XCTAssertEqual(report.unpairedA.map(\.id), [FlowID(2)])
        XCTAssertEqual(report.unpairedB.map(\.id), [FlowID(2)])
        XCTAssertFalse(report.isEqual)
        XCTAssertTrue(try SessionDiff().report(a: [a[0]], b: [b[0]]).isEqual)
    }

    func testStatusHeadersTrailersAndGRPCStatus() throws {
        let grpc = ("Content-Type", "application/grpc")
        let a = flow(1, "/svc/M", method: "POST", headers: [grpc, ("X-A", "1")], trailers: [("grpc-status", "0")])
        let b = flow(1, "/svc/M", method: "POST", status: 503, headers: [grpc],
                     trailers: [("grpc-status", "14"), ("grpc-message", "down"), ("x-shard", "2")])
        let differences = try SessionDiff().report(a: [a], b: [b]).comparisons[0].differences
        // A gRPC call's grpc-status and grpc-message trailers are its gRPC status, reported once as such.
        XCTAssertEqual(differences, [
            .status(a: 200, b: 503),
            .header(FieldDifference(name: "x-a", removed: ["1"], added: [])),
            .trailer(FieldDifference(name: "x-shard", removed: [], added: ["2"])),
            .grpcStatus(a: GRPCStatus(code: 0, message: ""), b: GRPCStatus(code: 14, message: "down")),
        ])
    }

    func testWebSocketMessagesPerDirectionWithMissingAndExtra() throws {
        let a = flow(1, "/ws", status: 101, kind: .websocket, messages: [
            message(true, "text", #"{"op":"sub","n":1}"#), message(false, "text", "hello"), message(false, "ping", ""),
            message(false, "binary", "\u{1}\u{2}"), message(true, "text", "bye"),
        ])
        let b = flow(1, "/ws", status: 101, kind: .websocket, messages: [
            message(false, "text", "hello"), message(true, "text", #"{"n":2,"op":"sub"}"#),
            message(false, "binary", "\u{1}\u{3}"), message(false, "text", "extra"),
        ])
        let differences = try SessionDiff().report(a: [a], b: [b]).comparisons[0].differences
        XCTAssertEqual(differences, [
            .message(WebSocketMessageDifference(fromClient: true, index: 0, change: .payload(.json([
                JSONChange(pointer: JSONPointer(tokens: ["n"]), kind: .changed, a: .number("1"), b: .number("2"))])))),
            .message(WebSocketMessageDifference(fromClient: true, index: 1, change: .missing(type: "text", size: 3))),
            .message(WebSocketMessageDifference(fromClient: false, index: 1, change: .payload(
                .binary(a: BodyFingerprint([1, 2]), b: BodyFingerprint([1, 3]))))),
            .message(WebSocketMessageDifference(fromClient: false, index: 2, change: .extra(type: "text", size: 5))),
        ])
    }

    func testSlowerThanFlagsOnlyPairsOverTheRatio() throws {
        var options = SessionDiffOptions()
        options.slowerThan = 2
        let diff = SessionDiff(options: options)
        XCTAssertEqual(try diff.report(a: [flow(1, "/a", durationMs: 10)], b: [flow(1, "/a", durationMs: 30)]).comparisons[0].differences,
                       [.slower(aMilliseconds: 10, bMilliseconds: 30)])
        XCTAssertTrue(try diff.report(a: [flow(1, "/a", durationMs: 10)], b: [flow(1, "/a", durationMs: 19)]).isEqual)
        XCTAssertTrue(try SessionDiff().report(a: [flow(1, "/a", durationMs: 10)], b: [flow(1, "/a", durationMs: 90)]).isEqual)
    }
}
