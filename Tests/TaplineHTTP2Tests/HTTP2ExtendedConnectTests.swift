import XCTest
import TaplineWire
@testable import TaplineHTTP2

/// RFC 8441 on our sessions: the server announces SETTINGS_ENABLE_CONNECT_PROTOCOL, the
/// client sees it, and nghttp2 lets an extended CONNECT through with DATA both ways;
/// without the setting nghttp2 refuses `:protocol`.
final class HTTP2ExtendedConnectTests: XCTestCase {
    static let connect = HTTPHeaders([(":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "http"),
                                      (":path", "/chat"), (":authority", "example.test"), ("sec-websocket-version", "13")])

    func testServerAnnouncesTheSettingAndAcceptsExtendedConnect() throws {
        let client = try HTTP2Session(role: .client)
        let server = try HTTP2Session(role: .server)
        XCTAssertFalse(client.peerEnablesConnectProtocol, "unknown before the server's SETTINGS")
        _ = try HTTP2SessionPump.run(client, server)
        XCTAssertTrue(client.peerEnablesConnectProtocol)
        XCTAssertFalse(server.peerEnablesConnectProtocol, "clients never announce it")

        let stream = try client.submitRequest(Self.connect, endStream: false)
        client.send(data: [0x81, 0x82, 1, 2, 3, 4, 5, 6], stream: stream)
        let (clientEvents, serverEvents) = try HTTP2SessionPump.run(client, server) { event in
            if case .headers(let id, _, .request, _) = event {
                try server.submitResponse(stream: id, headers: HTTPHeaders([(":status", "200")]), endStream: false)
                server.send(data: [0x81, 0x00], stream: id)
            }
        }
        XCTAssertTrue(serverEvents.contains(.headers(stream: stream, fields: Self.connect, kind: .request, endStream: false)),
                      "\(serverEvents)")
        XCTAssertTrue(serverEvents.contains(.data(stream: stream, bytes: [0x81, 0x82, 1, 2, 3, 4, 5, 6])))
        XCTAssertTrue(clientEvents.contains(.headers(stream: stream, fields: HTTPHeaders([(":status", "200")]),
                                                     kind: .response, endStream: false)))
        XCTAssertTrue(clientEvents.contains(.data(stream: stream, bytes: [0x81, 0x00])))
        XCTAssertFalse(serverEvents.contains { if case .streamReset = $0 { return true } else { return false } })
    }

    func testWithoutTheSettingProtocolIsRefused() throws {
        var settings = HTTP2SessionSettings()
        settings.enableConnectProtocol = false
        let client = try HTTP2Session(role: .client)
        let server = try HTTP2Session(role: .server, settings: settings)
        _ = try HTTP2SessionPump.run(client, server)
        XCTAssertFalse(client.peerEnablesConnectProtocol)
        let stream = try client.submitRequest(Self.connect, endStream: false)
        let (clientEvents, serverEvents) = try HTTP2SessionPump.run(client, server)
        XCTAssertFalse(serverEvents.contains { if case .headers = $0 { return true } else { return false } })
        XCTAssertTrue(clientEvents.contains(.streamReset(stream: stream, code: .protocolError)), "\(clientEvents)")
    }
}
