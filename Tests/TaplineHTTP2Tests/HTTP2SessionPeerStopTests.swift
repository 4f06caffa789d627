import XCTest
import TaplineWire
@testable import TaplineHTTP2

/// A response complete before its request: `stopPeerAfterOurEnd(stream:)` sends
/// RST_STREAM NO_ERROR after our END_STREAM (RFC 9113 §8.1), so the peer stops
/// uploading a body nobody will read, and only while the peer's side is open.
final class HTTP2SessionPeerStopTests: XCTestCase {
    static let upload = HTTPHeaders([(":method", "POST"), (":scheme", "http"), (":authority", "a.test"), (":path", "/up")])
    static let refusal = HTTPHeaders([(":status", "413")])

    /// The client's events when it sends `upload` (its body ended when `requestEnds`)
    /// and the server answers 413 (with `body`, none meaning a head with END_STREAM)
    /// as soon as the head arrives, asking the client to stop.
    func clientEvents(body: [UInt8]?, requestEnds: Bool) throws -> [HTTP2Event] {
        let client = try HTTP2Session(role: .client)
        let server = try HTTP2Session(role: .server)
        let id = try client.submitRequest(Self.upload, endStream: false)
        client.send(data: Array(repeating: 0x61, count: 1000), stream: id)
        if requestEnds { client.finish(stream: id) }
        let (events, _) = try HTTP2SessionPump.run(client, server) { event in
            guard case .headers(let id, _, .request, _) = event else { return }
            try server.submitResponse(stream: id, headers: Self.refusal, endStream: body == nil)
            if let body {
                server.send(data: body, stream: id)
                server.finish(stream: id)
            }
            server.stopPeerAfterOurEnd(stream: id)
        }
        return events.filter {
            switch $0 {
            case .settings, .dataSent: return false  // the client's own upload
            default: return true
            }
        }
    }

    func testTheResetFollowsTheCompleteResponse() throws {
        for size in [0, 7, 40_000] {  // empty last DATA; one frame; several frames and data provider calls
            let body = (0..<size).map { UInt8(truncatingIfNeeded: $0) }
            var expected: [HTTP2Event] = [.headers(stream: 1, fields: Self.refusal, kind: .response, endStream: false)]
            if size > 0 { expected.append(.data(stream: 1, bytes: body)) }
            expected += [.endStream(stream: 1), .streamReset(stream: 1, code: .noError),
                         .streamClosed(stream: 1, code: .noError)]
            XCTAssertEqual(try clientEvents(body: body, requestEnds: false), expected, "body of \(size) bytes")
        }
    }

    func testAHeadThatEndsTheStreamIsFollowedByTheReset() throws {
        XCTAssertEqual(try clientEvents(body: nil, requestEnds: false),
                       [.headers(stream: 1, fields: Self.refusal, kind: .response, endStream: true),
                        .streamReset(stream: 1, code: .noError), .streamClosed(stream: 1, code: .noError)])
    }

    func testAPeerThatAlreadyEndedItsSideIsNotReset() throws {
        XCTAssertEqual(try clientEvents(body: Array("no".utf8), requestEnds: true),
                       [.headers(stream: 1, fields: Self.refusal, kind: .response, endStream: false),
                        .data(stream: 1, bytes: Array("no".utf8)), .endStream(stream: 1),
                        .streamClosed(stream: 1, code: .noError)])
    }

    func testTheResetWaitsForABodyStillToCome() throws {
        let client = try HTTP2Session(role: .client)
        let server = try HTTP2Session(role: .server)
        _ = try client.submitRequest(Self.upload, endStream: false)
        _ = try HTTP2SessionPump.run(client, server) { event in
            guard case .headers(let id, _, .request, _) = event else { return }
            try server.submitResponse(stream: id, headers: Self.refusal, endStream: false)
            server.stopPeerAfterOurEnd(stream: id)  // before the body is even queued
        }
        XCTAssertFalse(server.wantsWrite, "nothing is due while the response is unfinished")
        server.send(data: Array("late".utf8), stream: 1)
        server.finish(stream: 1)
        let (events, _) = try HTTP2SessionPump.run(client, server)
        XCTAssertEqual(events, [.data(stream: 1, bytes: Array("late".utf8)), .endStream(stream: 1),
                                .streamReset(stream: 1, code: .noError), .streamClosed(stream: 1, code: .noError)])
    }
}
