import Foundation
import TaplineCapture
import TaplineFlow
@testable import TaplineReplay
import TaplineWire
import XCTest

/// The streaming comparison of a replayed response with its source's stored body, and
/// the compact latency store the replay keeps instead of the flows.
final class ReplayedResponseBodyTests: XCTestCase {
    /// A source body stored in two extents of a segment file (as the capture writes one).
    private func storedBody(_ bytes: [UInt8], truncated: Bool = false) throws -> CapturedBody {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("replayed-body-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/bodies", withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: directory) }
        // Other bytes first, so the extents do not start at offset 0.
        let segment = Array("xxxx".utf8) + bytes
        try Data(segment).write(to: URL(fileURLWithPath: directory + "/bodies/000001.bin"))
        var body = CapturedBody(sessionDirectory: directory)
        let half = UInt64(bytes.count / 2)
        body.extents = [BodyExtent(segment: 1, offset: 4, length: half),
                        BodyExtent(segment: 1, offset: 4 + half, length: UInt64(bytes.count) - half)]
        body.capturedBytes = UInt64(bytes.count)
        body.bodyBytes = truncated ? UInt64(bytes.count) + 10 : UInt64(bytes.count)
        body.truncated = truncated
        body.isComplete = true
        return body
    }

    private func replay(_ bytes: [UInt8], against source: CapturedBody, chunk: Int, limit: Int = 1 << 20,
                        stored: [UInt8]? = nil) -> ReplayedResponseBody {
        let body = ReplayedResponseBody(source: source, limit: limit, sourceFiles: CaptureSegmentFiles(), stored: stored)
        var start = 0
        while start < bytes.count {
            body.append(bytes[start..<min(start + chunk, bytes.count)])
            start += chunk
        }
        return body
    }

    private let payload = Array((0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })

    func testEqualBytesInAnyChunkingAreEqualAndKeepNothing() throws {
        let source = try storedBody(payload)
        for chunk in [1, 7, 16 * 1024, 100_000] {
            let body = replay(payload, against: source, chunk: chunk)
            XCTAssertTrue(body.equalsSource, "chunk \(chunk)")
            XCTAssertEqual(try body.loaded(headers: HTTPHeaders()).bytes, payload, "chunk \(chunk)")
        }
    }

    /// The source's whole stored body read already (`ReplayItem.storedResponseBody`) is
    /// matched against as the segment file would be, without reading that file: with the
    /// file gone, an equal body is still equal, and a differing one still differs (it is
    /// loaded from the file only to be reported). One of another length is not taken.
    func testAStoredBodyGivenWholeIsMatchedWithoutReadingTheSegmentFile() throws {
        let small = Array(payload.prefix(3_000))
        let source = try storedBody(small)
        var changed = small
        changed[2_000] ^= 0xFF
        let segment = source.sessionDirectory + "/bodies/000001.bin"
        let kept = try Data(contentsOf: URL(fileURLWithPath: segment))
        try FileManager.default.removeItem(atPath: segment)
        for chunk in [1, 100, 4_096] {
            XCTAssertTrue(replay(small, against: source, chunk: chunk, stored: small).equalsSource, "chunk \(chunk)")
            for replayed in [changed, Array(small.dropLast()), small + [1], []] {
                XCTAssertFalse(replay(replayed, against: source, chunk: chunk, stored: small).equalsSource, "chunk \(chunk)")
            }
            // Without it, or with one that is not the whole body, the file is read: here, it cannot be.
            XCTAssertFalse(replay(small, against: source, chunk: chunk).equalsSource, "chunk \(chunk)")
            XCTAssertFalse(replay(small, against: source, chunk: chunk, stored: Array(small.dropLast())).equalsSource,
                           "chunk \(chunk)")
        }
        try kept.write(to: URL(fileURLWithPath: segment))
        let body = replay(changed, against: source, chunk: 512, stored: small)
        XCTAssertFalse(body.equalsSource)
        XCTAssertEqual(try body.loaded(headers: HTTPHeaders()).bytes, changed)
    }

    func testADifferingByteShorterOrLongerBodyIsNotEqualAndLoadsAsReplayed() throws {
        let source = try storedBody(payload)
        var changed = payload
        changed[30_001] ^= 0xFF
        let cases: [[UInt8]] = [changed, Array(payload.dropLast()), payload + [1, 2, 3], []]
        for (number, replayed) in cases.enumerated() {
            let body = replay(replayed, against: source, chunk: 4_096)
            XCTAssertFalse(body.equalsSource, "case \(number)")
            XCTAssertEqual(try body.loaded(headers: HTTPHeaders()).bytes, replayed, "case \(number)")
        }
    }

    func testASourceTheCaptureTruncatedIsNeverEqual() throws {
        let body = replay(payload, against: try storedBody(payload, truncated: true), chunk: 1_000)
        XCTAssertFalse(body.equalsSource)
    }

    func testWhatIsKeptIsBoundedByTheLimitAndSaysSo() throws {
        let source = try storedBody(payload)
        var changed = payload
        changed[10] ^= 1
        let body = replay(changed + Array(repeating: 9, count: 100_000), against: source, chunk: 3_000, limit: 20_000)
        let loaded = try body.loaded(headers: HTTPHeaders())
        XCTAssertEqual(loaded.bytes, Array(changed.prefix(20_000)))
        XCTAssertFalse(loaded.complete)
        XCTAssertEqual(loaded.note, "body larger than 20000 bytes; only the start is shown")
    }

    func testAMissingSourceSegmentIsNotEqualAndTheReplayKeepsItsOwnBytes() throws {
        let source = try storedBody(payload)
        try FileManager.default.removeItem(atPath: source.sessionDirectory + "/bodies/000001.bin")
        let body = replay(payload, against: source, chunk: 1_000)
        XCTAssertFalse(body.equalsSource)
        XCTAssertEqual(try body.loaded(headers: HTTPHeaders()).bytes, payload)
    }

    func testLatencySamplesGiveTheSamePercentilesAsMilliseconds() throws {
        var samples = LatencySamples()
        let micros = (1...1_000).map { Int32($0 * 37 % 1_000 + 1) * 250 }
        samples.replayed = micros.shuffled()
        samples.count = micros.count
        let row = samples.row("GET /a")
        XCTAssertEqual(row.replayed, LatencyPercentiles(micros.map { Double($0) / 1_000 }))
        XCTAssertNil(row.recorded)
        XCTAssertEqual(row.count, 1_000)
    }
}

/// `ReplayEvaluation`: each flow compared as it ends, equal ones only counted unless a
/// report lists them, and differences kept in full for the first `detailedFlowLimit` flows.
final class ReplayEvaluationTests: XCTestCase {
    private func flow(_ id: UInt64, status: Int, milliseconds: Int64 = 12, target: String? = nil) -> CapturedFlow {
        var flow = CapturedFlow(id: FlowID(id), connection: ConnectionID(1), kind: .http, scheme: "http",
                                authority: "127.0.0.1:8080", started: Timestamp(microseconds: 0), sessionDirectory: "/nonexistent")
        flow.request = HTTPRequestHead(method: "GET", target: target ?? "/users/\(id)")
        flow.response = HTTPResponseHead(status: status)
        flow.timings.requestStart = Timestamp(microseconds: 0)
        flow.timings.done = Timestamp(microseconds: milliseconds * 1_000)
        flow.ended = flow.timings.done
        return flow
    }

    private func add(_ evaluation: inout ReplayEvaluation, _ source: CapturedFlow, _ replay: CapturedFlow,
                     firstRound: Bool = true) {
        evaluation.add(source: source, replay: replay,
                       responseBody: ReplayedResponseBody(source: source.responseBody, limit: 1 << 20,
                                                          sourceFiles: CaptureSegmentFiles()),
                       firstRound: firstRound)
    }

    func testEqualFlowsAreCountedAndOnlyDifferingOnesKeptUnlessAReportListsThem() {
        for keeps in [false, true] {
            var evaluation = ReplayEvaluation(diff: SessionDiff(), keepsEqualOutcomes: keeps)
            add(&evaluation, flow(1, status: 200), flow(1, status: 200))
            add(&evaluation, flow(2, status: 200), flow(2, status: 503))
            let result = evaluation.result(skipped: [])
            XCTAssertEqual([result.sentCount, result.equalCount, result.differentCount], [2, 1, 1])
            XCTAssertEqual(result.outcomes.map(\.sourceID), keeps ? [FlowID(1), FlowID(2)] : [FlowID(2)])
            XCTAssertEqual(result.outcomes.last?.differences.count, 1)
            XCTAssertEqual(result.outcomes.last?.url, "http://127.0.0.1:8080/users/2")
            XCTAssertFalse(result.allMatched)
        }
    }

    func testDifferencesBeyondTheDetailedLimitAreCountedNotKept() {
        var evaluation = ReplayEvaluation(diff: SessionDiff(), keepsEqualOutcomes: false)
        for id in 1...UInt64(ReplayEvaluation.detailedFlowLimit + 1) {
            add(&evaluation, flow(id, status: 200), flow(id, status: 500))
        }
        let outcomes = evaluation.result(skipped: []).outcomes
        XCTAssertEqual(outcomes.count, ReplayEvaluation.detailedFlowLimit + 1)
        XCTAssertFalse(outcomes[0].differencesOmitted)
        XCTAssertTrue(outcomes[ReplayEvaluation.detailedFlowLimit].differencesOmitted)
        XCTAssertEqual(outcomes[ReplayEvaluation.detailedFlowLimit].differenceCount, 1)
    }

    /// Two loops' shares (`--threads 2`) each keep differences for up to the limit; the
    /// merged result lists them for the first `detailedFlowLimit` flows in replay order, not twice that.
    func testMergedSharesListDifferencesForNoMoreThanTheLimitInAll() {
        let limit = ReplayEvaluation.detailedFlowLimit
        var shares = [ReplayEvaluation(diff: SessionDiff(), keepsEqualOutcomes: false),
                      ReplayEvaluation(diff: SessionDiff(), keepsEqualOutcomes: false)]
        for id in 1...UInt64(2 * limit) {
            add(&shares[Int(id % 2)], flow(id, status: 200), flow(id, status: 500))
        }
        var merged = shares[0]
        merged.merge(shares[1])
        let outcomes = merged.result(skipped: []).outcomes
        XCTAssertEqual(outcomes.count, 2 * limit)
        XCTAssertEqual(outcomes.map(\.replayID), (1...UInt64(2 * limit)).map(FlowID.init))
        XCTAssertEqual(outcomes.prefix(limit).filter(\.differencesOmitted).count, 0)
        XCTAssertEqual(outcomes.dropFirst(limit).filter(\.differencesOmitted).count, limit)
        XCTAssertTrue(outcomes.allSatisfy { $0.differenceCount == 1 })
    }

    func testLatencyPerEndpointCountsTheRecordingOnceAcrossRounds() throws {
        var evaluation = ReplayEvaluation(diff: SessionDiff(), keepsEqualOutcomes: false)
        add(&evaluation, flow(1, status: 200, milliseconds: 10), flow(1, status: 200, milliseconds: 4))
        add(&evaluation, flow(1, status: 200, milliseconds: 10), flow(2, status: 200, milliseconds: 6), firstRound: false)
        let row = try XCTUnwrap(evaluation.result(skipped: []).latency.first)
        XCTAssertEqual(row.endpoint, "GET /users/:number")
        XCTAssertEqual(row.count, 2)
        XCTAssertEqual(row.recorded, LatencyPercentiles([10]))
        XCTAssertEqual(row.replayed, LatencyPercentiles([4, 6]))
    }

    /// More distinct requests than `requestLabelLimit` remembers, then earlier ones again:
    /// every outcome keeps its URL and the latency table its endpoints in first-seen order.
    func testRequestsBeyondTheRememberedOnesKeepTheirURLsAndEndpoints() throws {
        let distinct = ReplayEvaluation.requestLabelLimit + 100
        let targets = (0..<distinct).map { index in
            switch index % 3 {
            case 0: return "/users/\(index)"
            case 1: return "/orders/\(index)/items?page=\(index)"
            default: return "/static/app.js"
            }
        } + (0..<50).map { "/users/\($0 * 3)" }
        var evaluation = ReplayEvaluation(diff: SessionDiff(), keepsEqualOutcomes: true)
        for (index, target) in targets.enumerated() {
            let id = UInt64(index + 1)
            add(&evaluation, flow(id, status: 200, target: target), flow(id, status: 200, target: target))
        }
        let result = evaluation.result(skipped: [])
        XCTAssertEqual(result.outcomes.map(\.url), targets.map { "http://127.0.0.1:8080" + $0 })
        XCTAssertEqual(result.latency.map(\.endpoint), ["GET /users/:number", "GET /orders/:number/items", "GET /static/app.js"])
        XCTAssertEqual(result.latency.map(\.count), [distinct / 3 + 50 + (distinct % 3 > 0 ? 1 : 0),
                                                    distinct / 3 + (distinct % 3 > 1 ? 1 : 0), distinct / 3])
    }
}
