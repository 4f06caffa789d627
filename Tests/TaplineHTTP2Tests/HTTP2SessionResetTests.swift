import XCTest
import TaplineWire
@testable import TaplineHTTP2

/// A reset passed on after relayed data: `resetAfterQueuedData(stream:code:)` frames
/// the stream's queued head and body first, so the peer sees what was relayed before
/// the RST_STREAM; a plain `reset` drops them.
final class HTTP2SessionResetTests: XCTestCase {
    static let request = HTTPHeaders([(":method", "GET"), (":scheme", "http"), (":authority", "a.test"), (":path", "/")])
    static let response = HTTPHeaders([(":status", "200")])

    /// The client's events when the server answers with a head and `body`, then resets
    /// the stream with ENHANCE_YOUR_CALM before any of it was written out.
    func clientEvents(body: [UInt8], afterQueuedData: Bool) throws -> [HTTP2Event] {
        let client = try HTTP2Session(role: .client)
        let server = try HTTP2Session(role: .server)
        _ = try client.submitRequest(Self.request, endStream: true)
        let (events, _) = try HTTP2SessionPump.run(client, server) { event in
            guard case .headers(let id, _, .request, _) = event else { return }
            try server.submitResponse(stream: id, headers: Self.response, endStream: false)
            server.send(data: body, stream: id)
            if afterQueuedData {
                server.resetAfterQueuedData(stream: id, code: .enhanceYourCalm)
            } else {
                server.reset(stream: id, code: .enhanceYourCalm)
            }
        }
        return events.filter { if case .settings = $0 { return false } else { return true } }
    }

    func testTheHeadAndBodyQueuedBeforeTheResetReachThePeerFirst() throws {
        for size in [0, 7, 40_000] {  // no body; one frame; several frames and data provider calls
            let body = (0..<size).map { UInt8(truncatingIfNeeded: $0) }
            var expected: [HTTP2Event] = [.headers(stream: 1, fields: Self.response, kind: .response, endStream: false)]
            if size > 0 { expected.append(.data(stream: 1, bytes: body)) }
            expected += [.streamReset(stream: 1, code: .enhanceYourCalm), .streamClosed(stream: 1, code: .enhanceYourCalm)]
            XCTAssertEqual(try clientEvents(body: body, afterQueuedData: true), expected, "body of \(size) bytes")
        }
    }

    func testAPlainResetDropsWhatWasQueued() throws {
        XCTAssertEqual(try clientEvents(body: Array("partial".utf8), afterQueuedData: false),
                       [.streamReset(stream: 1, code: .enhanceYourCalm), .streamClosed(stream: 1, code: .enhanceYourCalm)])
    }

    func testAResetAfterTheBodyWasFramedGoesOutAtOnce() throws {
        let client = try HTTP2Session(role: .client)
        let server = try HTTP2Session(role: .server)
        _ = try client.submitRequest(Self.request, endStream: true)
        _ = try HTTP2SessionPump.run(client, server) { event in
            guard case .headers(let id, _, .request, _) = event else { return }
            try server.submitResponse(stream: id, headers: Self.response, endStream: false)
            server.send(data: Array("partial".utf8), stream: id)
        }
        // Head and body are out and the stream waits for more: the reset needs no drain.
        server.resetAfterQueuedData(stream: 1, code: .cancel)
        XCTAssertTrue(server.wantsWrite)
        let (events, _) = try HTTP2SessionPump.run(client, server)
        XCTAssertEqual(events, [.streamReset(stream: 1, code: .cancel), .streamClosed(stream: 1, code: .cancel)])
    }
}
