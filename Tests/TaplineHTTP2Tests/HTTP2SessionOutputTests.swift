import XCTest
import TaplineWire
import TaplineHTTP2

/// `writeOutput` hands out the same bytes whether it gathers frames or not, in
/// batches bounded by its limit, and tolerates a sink that calls back in.
final class HTTP2SessionOutputTests: XCTestCase {
    /// A client session with a request and `bodySize` bytes of body queued.
    private func sessionWithQueuedRequest(bodySize: Int) throws -> HTTP2Session {
        let session = try HTTP2Session(role: .client)
        let stream = try session.submitRequest(HTTP2SessionExchangeTests.requestHeaders, endStream: false)
        session.send(data: (0..<bodySize).map { UInt8(truncatingIfNeeded: $0 &* 31) }, stream: stream)
        session.finish(stream: stream, trailers: nil)
        return session
    }

    /// Drains `session`; returns the bytes and the size of each buffer the sink got.
    private func drain(_ session: HTTP2Session, gathered: Bool, limit: Int) -> (bytes: [UInt8], calls: [Int]) {
        var bytes: [UInt8] = []
        var calls: [Int] = []
        while session.writeOutput(limit: limit, gathered: gathered, to: { buffer in
            bytes.append(contentsOf: buffer)
            calls.append(buffer.count)
        }) {}
        return (bytes, calls)
    }

    func test_gathered_and_direct_output_are_the_same_bytes() throws {
        // 60 KB fits the initial stream window (64 KiB - 1), so both sessions send all of it.
        let direct = drain(try sessionWithQueuedRequest(bodySize: 60_000), gathered: false, limit: 20_000)
        let gathered = drain(try sessionWithQueuedRequest(bodySize: 60_000), gathered: true, limit: 20_000)
        XCTAssertGreaterThan(direct.bytes.count, 60_000)
        XCTAssertTrue(direct.bytes == gathered.bytes, "gathering changed the bytes")
        XCTAssertGreaterThan(direct.calls.count, gathered.calls.count, "direct output is handed out frame by frame")
        XCTAssertLessThanOrEqual(gathered.calls.max() ?? 0, 20_000 + 9 + 16_384, "a gathered batch is the limit plus a frame")
        XCTAssertFalse(try sessionWithQueuedRequest(bodySize: 0).takeOutput().isEmpty)
    }

    func test_take_output_returns_what_write_output_hands_out() throws {
        let taken = try sessionWithQueuedRequest(bodySize: 30_000)
        var all: [UInt8] = []
        while case let chunk = taken.takeOutput(), !chunk.isEmpty { all += chunk }
        XCTAssertTrue(all == drain(try sessionWithQueuedRequest(bodySize: 30_000), gathered: true, limit: 64 * 1024).bytes)
    }

    func test_a_sink_that_calls_back_into_the_session_gets_every_byte_once() throws {
        let reference = drain(try sessionWithQueuedRequest(bodySize: 50_000), gathered: false, limit: .max).bytes
        let session = try sessionWithQueuedRequest(bodySize: 50_000)
        var bytes: [UInt8] = []
        var depth = 0
        func sink(_ buffer: UnsafeBufferPointer<UInt8>) {
            bytes.append(contentsOf: buffer)
            guard depth < 3 else { return }
            depth += 1
            session.writeOutput(limit: 5_000, gathered: true, to: sink)
            depth -= 1
        }
        while session.writeOutput(limit: 5_000, gathered: true, to: sink) {}
        XCTAssertEqual(bytes.count, reference.count)
        XCTAssertTrue(bytes == reference)
    }
}
