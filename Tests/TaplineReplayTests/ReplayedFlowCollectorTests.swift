import XCTest
import TaplineCapture
import TaplineFlow
import TaplineWire
@testable import TaplineReplay

/// `ReplayedFlowCollector`: every event goes on to the replay session's sink, and a
/// replayed flow is taken out (`take`) as the session will read it back, once; events
/// recorded by id reach only a flow expected `byID`.
final class ReplayedFlowCollectorTests: XCTestCase {
    /// The replay session's sink, as far as the collector sees it: the events passed on.
    private final class PassedOn: FlowEventSink {
        var events: [FlowEvent] = []
        func record(_ event: FlowEvent) { events.append(event) }
        var bufferedBytes: Int { 0 }
        func flush() {}
    }

    private func t(_ micros: Int64) -> Timestamp { Timestamp(microseconds: micros) }

    func testATakenFlowIsTheReplayAsRecordedAndIsTakenOnce() {
        let passedOn = PassedOn()
        let collector = ReplayedFlowCollector(inner: passedOn, sessionDirectory: "/replay", limit: 1 << 20)
        let source = CapturedFlow(id: FlowID(3), connection: ConnectionID(1), kind: .http, scheme: "http",
                                  authority: "api.test:80", started: t(1), sessionDirectory: "/source")
        let id = FlowID(7)
        let request = HTTPRequestHead(method: "GET", target: "/x", headers: HTTPHeaders([("Host", "api.test")]))
        let response = HTTPResponseHead(status: 200, reason: "OK", headers: HTTPHeaders([("Content-Length", "0")]))
        var timings = FlowTimings()
        timings.requestStart = t(10)
        timings.done = t(40)
        let entry = collector.expect(id, source: source)
        let events: [FlowEvent] = [
            .flowStarted(flow: id, connection: ConnectionID(2), kind: .http, scheme: "http", authority: "api.test:80", time: t(10)),
            .flowReplays(flow: id, sourceFlow: source.id, time: t(10)),
            .requestHead(flow: id, head: request, time: t(11)),
            .upstreamConnected(flow: id, server: "10.0.0.1:80", tls: nil, reused: true, time: t(12)),
            .requestEnd(flow: id, trailers: nil, bodyBytes: 0, time: t(13)),
            .responseHead(flow: id, head: response, time: t(20)),
            .responseEnd(flow: id, trailers: nil, bodyBytes: 0, time: t(30)),
            .flowEnded(flow: id, timings: timings, bytesFromClient: 0, bytesFromServer: 0, error: nil, time: t(40)),
        ]
        for event in events { collector.record(event, into: entry) }

        var expected = CapturedFlow(id: id, connection: ConnectionID(2), kind: .http, scheme: "http", authority: "api.test:80",
                                    started: t(10), sessionDirectory: "/replay")
        expected.sourceFlow = source.id
        expected.request = request
        expected.requestTime = t(11)
        expected.serverAddress = "10.0.0.1:80"
        expected.upstreamReused = true
        expected.requestBody.isComplete = true
        expected.response = response
        expected.responseTime = t(20)
        expected.responseBody.isComplete = true
        expected.timings = timings
        expected.ended = t(40)
        XCTAssertEqual(collector.take(entry)?.flow, expected)
        XCTAssertNil(collector.take(entry), "taken once")
        collector.record(.flowEnded(flow: id, timings: timings, bytesFromClient: 0, bytesFromServer: 0, error: nil, time: t(50)),
                         into: entry)
        XCTAssertEqual(passedOn.events.count, events.count + 1, "every event is passed on, a taken flow's too")
    }

    /// A WebSocket's messages are recorded by id (`ReplayWebSocket`): they reach the flow
    /// expected `byID`, until it is taken, and never a flow that was not; all are passed on.
    func testEventsByIDReachOnlyAFlowExpectedByIDUntilTaken() {
        let passedOn = PassedOn()
        let collector = ReplayedFlowCollector(inner: passedOn, sessionDirectory: "/replay", limit: 1 << 20)
        let source = CapturedFlow(id: FlowID(3), connection: ConnectionID(1), kind: .websocket, scheme: "http",
                                  authority: "ws.test:80", started: t(1), sessionDirectory: "/source")
        let webSocket = collector.expect(FlowID(7), source: source, byID: true)
        let plain = collector.expect(FlowID(8), source: source)
        let message = WebSocketMessageRecord(fromClient: true, opcode: .text, payload: Array("hi".utf8), wireBytes: 8,
                                             compressed: false)
        for id in [FlowID(7), FlowID(8), FlowID(9)] {
            collector.record(.webSocketMessage(flow: id, message: message, time: t(20)))
            collector.recordBody(flow: id, isRequest: false, bytes: [1, 2, 3][...], time: t(21))
        }
        let taken = collector.take(webSocket)?.flow
        XCTAssertEqual(taken?.kind, .websocket)
        XCTAssertEqual(taken?.webSocketMessages.map(\.inlinePayload), [Array("hi".utf8)])
        XCTAssertEqual(taken?.responseBody.capturedBytes, 3)
        collector.record(.webSocketMessage(flow: FlowID(7), message: message, time: t(30)))
        XCTAssertNil(collector.take(webSocket), "taken once")
        let other = collector.take(plain)?.flow
        XCTAssertEqual(other?.kind, .http, "an event by id does not reach a flow not expected by id")
        XCTAssertEqual(other?.webSocketMessages.count, 0)
        XCTAssertEqual(other?.responseBody.capturedBytes, 0)
        XCTAssertEqual(passedOn.events.count, 7, "every event is passed on")
    }
}
