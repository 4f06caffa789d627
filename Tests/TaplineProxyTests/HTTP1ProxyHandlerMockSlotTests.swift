import Foundation
import TaplineFlow
import TaplineHTTPClient
import TaplineNet
import TaplineTestSupport
import TaplineWire
import XCTest
@testable import TaplineProxy

/// The seam a mock server plugs into: `HTTP1ProxyHandler` served by an
/// `UpstreamLegSource` whose legs have no socket and answer canned responses
/// (`CannedResponseSource`). The handler's own code serves the client and records
/// the flows as it does for a real upstream.
final class HTTP1ProxyHandlerMockSlotTests: XCTestCase {
    func testACannedResponseReachesTheClientByteForByteAndIsRecorded() throws {
        let connection = try ScriptedHTTP1ClientConnection(for: self)
        let loop = connection.loop, client = connection.client
        let head = HTTPResponseHead(status: 200, reason: "OK", headers: HTTPHeaders([("Content-Type", "text/plain"),
                                                                                     ("X-Mock", "recorded")]))
        let body = Array("hello from the recording".utf8)
        let source = LoopBound(CannedResponseSource(loop: loop, head: head, body: body), loop: loop)
        let request = "GET http://origin.test:8080/first HTTP/1.1\r\nHost: origin.test:8080\r\n\r\n"
            + "GET http://origin.test:8080/second HTTP/1.1\r\nHost: origin.test:8080\r\n\r\n"

        let handlerHeld = SyncResult<LoopBound<HTTP1ProxyHandler>>()
        loop.execute {
            handlerHeld.set(LoopBound(connection.startHandler(route: .forward, legSource: source.value), loop: loop))
            client.receive(request)
        }
        let handler = try XCTUnwrap(handlerHeld.wait(seconds: 10))
        XCTAssertTrue(connection.recorder.wait(timeout: 10) { event in
            if case .flowEnded(let flow, _, _, _, _, _) = event { flow == FlowID(2) } else { false }
        }, "the second flow ends")

        let answer = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Mock: recorded\r\nContent-Length: 24\r\n\r\n"
            + "hello from the recording"
        let written = SyncResult<(String, [String], Int)>()
        loop.execute {
            withExtendedLifetime(handler) {
                let legs = source.value.legsMade
                written.set((String(decoding: client.written, as: UTF8.self), legs.flatMap(\.requests), legs.count))
            }
        }
        let (clientGot, requestsSent, legsMade) = try XCTUnwrap(written.wait(seconds: 10))
        XCTAssertEqual(clientGot, answer + answer, "the client gets the canned response as it is, once per request")
        XCTAssertEqual(requestsSent, ["GET /first", "GET /second"], "origin-form requests went to the mock's leg")
        XCTAssertEqual(legsMade, 1, "the second request reused the leg the first released")

        let events = connection.recorder.events
        let upstreams = events.compactMap { event -> String? in
            guard case .upstreamConnected(_, let server, let tls, let reused, _) = event else { return nil }
            return "\(server) tls=\(tls != nil) reused=\(reused)"
        }
        XCTAssertEqual(upstreams, ["mock tls=false reused=false", "mock tls=false reused=true"])
        let responses = events.compactMap { event -> HTTPResponseHead? in
            if case .responseHead(_, let recorded, _) = event { return recorded } else { return nil }
        }
        XCTAssertEqual(responses.map(\.status), [200, 200])
        XCTAssertEqual(responses.first?.headers.first(name: "X-Mock"), "recorded")
        XCTAssertNil(connection.firstFlowError, "the flows end without an error")
        let bodyBytes = events.compactMap { event -> UInt64? in
            if case .responseEnd(_, _, let bytes, _) = event { bytes } else { nil }
        }
        XCTAssertEqual(bodyBytes, [UInt64(body.count), UInt64(body.count)], "both response bodies are recorded whole")
    }
}
