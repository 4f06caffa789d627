import Foundation
import TaplineFlow
import TaplineHTTPClient
import TaplineNet
import TaplineTLS
import TaplineTestSupport
import XCTest
@testable import TaplineProxy

/// `HTTP1ProxyHandler` driven through a `ScriptedByteStream`: no socket and no
/// upstream, only the handler's own loop. What the client sends is injected; what
/// the handler did to the client connection and what it recorded are checked exactly.
final class HTTP1ProxyHandlerScriptedTests: XCTestCase {
    /// A forward proxy cannot route an origin-form request: it answers 400 saying how to
    /// configure the client (with the address the client reached, from the stream's
    /// transport), closes after the answer, and records a bad-request flow and the
    /// connection's close with the bytes that crossed it.
    func testForwardModeAnswersAnOriginFormRequestWith400AndClosesTheConnection() throws {
        let connection = try ScriptedHTTP1ClientConnection(for: self)
        let client = connection.client
        let request = "GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n"

        connection.loop.execute {
            _ = connection.startHandler(route: .forward)
            client.receive(request)
        }
        XCTAssertTrue(connection.waitForConnectionClosed(), "the handler never closed the client connection")

        let answer = String(decoding: client.written, as: UTF8.self)
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), answer)
        XCTAssertTrue(answer.contains("curl -x http://127.0.0.1:8080"), answer)
        XCTAssertEqual(client.actions, [.write(client.written), .closeAfterFlush], "one answer, then close after it")

        let events = connection.recorder.events
        let flowError = connection.firstFlowError
        XCTAssertEqual(flowError?.kind, .badRequest)
        XCTAssertEqual(flowError.map { $0.message.contains("curl -x http://127.0.0.1:8080") }, true)
        guard case .connectionClosed(let id, _, let received, let sent, let error)? = events.last else {
            return XCTFail("the last event is not the connection's close: \(events)")
        }
        XCTAssertEqual(id, ConnectionID(1))
        XCTAssertEqual(received, UInt64(request.utf8.count))
        XCTAssertEqual(sent, UInt64(client.written.count))
        XCTAssertNil(error)
    }
}
