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

    private func replay(_ bytes: [UInt8], against source: CapturedBody, chunk: Int, limit: Int = 1 << 20) -> ReplayedResponseBody {
        let body = ReplayedResponseBody(source: source, limit: limit)
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
