import XCTest
import TaplineCapture
import TaplineFlow
import TaplineWire
@testable import TaplineReplay

/// `ReplayedFlowCollector`: every event goes on to the replay session's sink, and a
/// replayed flow is taken out (`take`) as the session will read it back, once.
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
        collector.expect(id, source: source)
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
        for event in events { collector.record(event) }

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
        XCTAssertEqual(collector.take(id)?.flow, expected)
        XCTAssertNil(collector.take(id), "taken once")
        collector.record(.flowEnded(flow: id, timings: timings, bytesFromClient: 0, bytesFromServer: 0, error: nil, time: t(50)))
        XCTAssertEqual(passedOn.events.count, events.count + 1, "every event is passed on, a taken flow's too")
    }
}
