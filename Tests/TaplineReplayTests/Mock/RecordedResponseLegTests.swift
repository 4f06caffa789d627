import Foundation
import TaplineFlow
import TaplineHTTPClient
import TaplineNet
import TaplineTestSupport
import TaplineWire
import XCTest
@testable import TaplineReplay

/// `RecordedResponseLeg` driven without a socket on a real loop: the request goes in
/// whole, the recorded head, the body in `chunkSize` chunks from the segment file (none
/// while a pause reason holds the leg), the trailers; the near-miss answer; sequences.
final class RecordedResponseLegTests: XCTestCase {
    private var group: EventLoopGroup!
    private var loop: EventLoop { group.loops[0] }

    override func setUpWithError() throws {
        group = try EventLoopGroup(threads: 1)
    }

    override func tearDown() {
        group.shutdown()
    }

    private func makeLeg(_ responder: MockResponder) -> RecordedResponseLeg {
        RecordedResponseLeg(loop: loop, target: UpstreamTarget(scheme: .http, host: "mock.test", port: 80),
                            responder: responder, fallbackLegs: nil)
    }

    func testTheRecordedResponseComesInChunksWithItsTrailersAndStopsWhilePaused() throws {
        let fixture = try MockRecordingFixture()
        let body = (0..<(RecordedResponseLeg.chunkSize * 2 + 100)).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let trailers = HTTPHeaders([(name: "grpc-status", value: "0")])
        let recording = try fixture.recording("POST", "/call", requestBody: Array("ping".utf8), status: 200,
                                              responseHeaders: [(":status", "200"), ("content-type", "application/grpc")],
                                              responseBody: body, trailers: trailers, version: .http2)
        let responder = MockResponder(recordings: [recording], options: MockResponder.Options(), log: { _ in })
        let owner = LegEventCollector(pauseAfterFirstChunk: true)
        let leg = LoopBound(makeLeg(responder), loop: loop)
        let held = LoopBound(owner, loop: loop)
        loop.execute {
            leg.value.delegate = held.value
            held.value.leg = leg.value
            leg.value.sendHead(.http1(HTTPRequestHead(method: "POST", target: "/call")), endStream: false)
            leg.value.sendBody(Array("ping".utf8)[...])
            leg.value.sendEnd(trailers: nil)
        }
        let firstChunk = try XCTUnwrap(owner.paused.wait(seconds: 10), "the first chunk arrives")
        XCTAssertEqual(firstChunk, RecordedResponseLeg.chunkSize)
        // Nothing more while the owner holds the leg: ten loop turns later still one chunk.
        let stillOne = SyncResult<Int>()
        let loop = self.loop
        loop.execute { held.value.afterTurns(10, on: loop) { stillOne.set(held.value.chunks.count) } }
        XCTAssertEqual(stillOne.wait(seconds: 10), 1, "no chunk is read while .clientSlow holds the leg")
        loop.execute { leg.value.resumeReading(.clientSlow) }
        let events = try XCTUnwrap(owner.ended.wait(seconds: 10))

        XCTAssertEqual(events.status, 200)
        XCTAssertEqual(events.framing, .chunked, "an HTTP/2 recording without content-length is chunked toward HTTP/1.1")
        XCTAssertEqual(events.chunks.map(\.count), [RecordedResponseLeg.chunkSize, RecordedResponseLeg.chunkSize, 100])
        XCTAssertEqual(events.chunks.flatMap { $0 }, body, "the body byte for byte")
        XCTAssertEqual(events.trailers?.first(name: "grpc-status"), "0")
        let poolable = SyncResult<Bool>()
        loop.execute { poolable.set(leg.value.poolable && leg.value.reused) }
        XCTAssertEqual(poolable.wait(seconds: 10), true, "the leg may carry the next request")
    }

    func testAnUnmatchedRequestGetsTheNearMissReportAndSequencesAdvance() throws {
        let fixture = try MockRecordingFixture()
        let recordings = [
            try fixture.recording("GET", "/count", responseHeaders: [("Content-Length", "1")], responseBody: Array("1".utf8)),
            try fixture.recording("GET", "/count", responseHeaders: [("Content-Length", "1")], responseBody: Array("2".utf8)),
        ]
        var options = MockResponder.Options()
        options.sequence = .strict
        let responder = MockResponder(recordings: recordings, options: options, log: { _ in })
        let answers = try ["/count", "/count", "/count", "/counts?x=1"].map { target in try answer(responder, target) }
        XCTAssertEqual(answers.map(\.status), [200, 200, 404, 404])
        XCTAssertEqual(answers[0].body, "1")
        XCTAssertEqual(answers[1].body, "2")
        XCTAssertTrue(answers[2].body.contains("all 2 recorded responses to this request were served (--sequence strict)"))
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(answers[3].body.utf8)) as? [String: Any])
        XCTAssertEqual(report["error"] as? String, "no recorded request matches")
        let closest = try XCTUnwrap(report["closest"] as? [[String: Any]])
        XCTAssertEqual(closest.count, 2)
        let differences = try XCTUnwrap(closest[0]["differences"] as? [[String: String]])
        XCTAssertEqual(differences, [["field": "path", "recorded": "/count", "received": "/counts"],
                                     ["field": "query", "recorded": "", "received": "x=1"]])
    }

    /// Sends a GET for `target` through a new leg and collects the answer.
    private func answer(_ responder: MockResponder, _ target: String) throws -> (status: Int, body: String) {
        let owner = LegEventCollector(pauseAfterFirstChunk: false)
        let leg = LoopBound(makeLeg(responder), loop: loop)
        let held = LoopBound(owner, loop: loop)
        loop.execute {
            leg.value.delegate = held.value
            leg.value.sendHead(.http1(HTTPRequestHead(method: "GET", target: target)), endStream: true)
        }
        let events = try XCTUnwrap(owner.ended.wait(seconds: 10))
        return (events.status ?? 0, String(decoding: events.chunks.flatMap { $0 }, as: UTF8.self))
    }
}

/// The owner side of a leg under test: collects its events; with `pauseAfterFirstChunk`
/// it pauses the leg (`.clientSlow`) on the first body chunk, as a handler whose client
/// is slow would, and says so through `paused`.
private final class LegEventCollector: HTTPClientLegDelegate, @unchecked Sendable {
    struct Events: Sendable {
        var status: Int?
        var framing: HTTP1BodyFraming?
        var chunks: [[UInt8]]
        var trailers: HTTPHeaders?
    }

    let pauseAfterFirstChunk: Bool
    weak var leg: (any HTTPClientLeg)?
    private(set) var head: LegResponseHead?
    private(set) var chunks: [[UInt8]] = []
    let paused = SyncResult<Int>()
    let ended = SyncResult<Events>()

    init(pauseAfterFirstChunk: Bool) {
        self.pauseAfterFirstChunk = pauseAfterFirstChunk
    }

    /// Runs `body` after `turns` more turns of `loop` (zero-delay timers, like the leg's own steps).
    func afterTurns(_ turns: Int, on loop: EventLoop, _ body: @escaping () -> Void) {
        guard turns > 0 else { return body() }
        _ = loop.scheduleTimer(milliseconds: 0) { self.afterTurns(turns - 1, on: loop, body) }
    }

    func legResponseStarted(_ leg: any HTTPClientLeg) {}
    func leg(_ leg: any HTTPClientLeg, receivedHead head: LegResponseHead) { self.head = head }
    func leg(_ leg: any HTTPClientLeg, receivedBody bytes: ArraySlice<UInt8>) {
        chunks.append(Array(bytes))
        if pauseAfterFirstChunk, chunks.count == 1 {
            leg.pauseReading(.clientSlow)
            paused.set(bytes.count)
        }
    }
    func leg(_ leg: any HTTPClientLeg, receivedEnd trailers: HTTPHeaders?) {
        ended.set(Events(status: head?.received.status, framing: head?.framing, chunks: chunks, trailers: trailers))
    }
    func leg(_ leg: any HTTPClientLeg, failed error: FlowError) {
        ended.set(Events(status: head?.received.status, framing: head?.framing, chunks: chunks, trailers: nil))
    }
    func legBecameWritable(_ leg: any HTTPClientLeg) {}
    func legFinishedInput(_ leg: any HTTPClientLeg) {}
}
