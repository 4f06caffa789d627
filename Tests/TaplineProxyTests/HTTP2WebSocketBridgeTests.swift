import TaplineFlow
import TaplineHTTP2
import TaplineWire
import XCTest
@testable import TaplineProxy

/// The RFC 8441 bridge: which CONNECT requests it takes, and the handshake state it
/// keeps toward an HTTP/1.1 upstream, without sockets.
final class HTTP2WebSocketBridgeTests: XCTestCase {
    private func connect(_ extra: [(String, String)] = [], omitting omitted: String? = nil) -> HTTPHeaders {
        let base = [(":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "http"),
                    (":path", "/chat"), (":authority", "example.test")]
        return HTTPHeaders(base.filter { $0.0 != omitted } + extra)
    }

    func testAnExtendedConnectForWebSocketIsTaken() {
        XCTAssertNil(HTTP2WebSocketBridge.refusal(of: connect(), endStream: false))
    }

    func testOtherConnectRequestsAreRefusedWithTheStatusThatSaysWhy() {
        let plain = HTTPHeaders([(":method", "CONNECT"), (":authority", "example.test:443")])
        XCTAssertEqual(HTTP2WebSocketBridge.refusal(of: plain, endStream: false)?.status, 501)
        XCTAssertEqual(HTTP2WebSocketBridge.refusal(of: connect(), endStream: true)?.status, 501,
                       "a CONNECT that ends its stream has no WebSocket to carry")
        var otherProtocol = connect(omitting: ":protocol")
        otherProtocol.add(name: ":protocol", value: "webtransport")
        let refused = HTTP2WebSocketBridge.refusal(of: otherProtocol, endStream: false)
        XCTAssertEqual(refused?.status, 501)
        XCTAssertEqual(refused?.error.kind, .badRequest)
        XCTAssertTrue(refused?.error.message.contains("webtransport") ?? false, refused?.error.message ?? "")
        XCTAssertEqual(HTTP2WebSocketBridge.refusal(of: connect(omitting: ":path"), endStream: false)?.status, 400)
    }

    func testTheUpgradeRequestsKeyIsTheOneTheSwitchIsCheckedAgainst() throws {
        let session = try HTTP2Session(role: .server)
        let transport = InertByteStream()
        let bridge = HTTP2WebSocketBridge(session: session, stream: 1, transport: transport, closeGrace: 5_000) {}
        guard case .waitingForUpstream = bridge.stage else { return XCTFail("stage \(bridge.stage)") }
        XCTAssertNil(bridge.upgradeKey)

        let request = bridge.http1UpgradeRequest(connect([("sec-websocket-protocol", "chat")]), hostHeader: nil,
                                                 forwardedFor: nil)
        let key = try XCTUnwrap(bridge.upgradeKey)
        XCTAssertEqual(request.headers.first(name: "Sec-WebSocket-Key"), key)
        XCTAssertEqual(request.method, "GET")
        XCTAssertFalse(bridge.isRelaying)

        let switched = HTTPResponseHead(status: 101, reason: "Switching Protocols", headers: HTTPHeaders([
            ("Upgrade", "websocket"), ("Connection", "Upgrade"),
            ("Sec-WebSocket-Accept", WebSocketHandshake.acceptValue(forKey: key)), ("Sec-WebSocket-Protocol", "chat")]))
        let clientFields = try ExtendedConnectTranslator.http2Response(toUpgrade: switched, key: try XCTUnwrap(bridge.upgradeKey))
        XCTAssertEqual(clientFields.first(name: ":status"), "200")

        _ = bridge.http1UpgradeRequest(connect(), hostHeader: nil, forwardedFor: nil)
        XCTAssertNotEqual(bridge.upgradeKey, key, "a retry on a fresh connection sends a fresh key")
        XCTAssertEqual(transport.bytesWritten, 0)
    }

    func testBeforeTheSwitchTheHandlerKeepsTheExchangesEvents() throws {
        let session = try HTTP2Session(role: .server)
        let bridge = HTTP2WebSocketBridge(session: session, stream: 1, transport: InertByteStream(), closeGrace: 5_000) {}
        XCTAssertFalse(bridge.upstreamLost(FlowError(.upstreamAborted, "lost")))
        XCTAssertFalse(bridge.clientReset(code: .cancel))
        XCTAssertNil(bridge.upstreamStream)
    }
}
