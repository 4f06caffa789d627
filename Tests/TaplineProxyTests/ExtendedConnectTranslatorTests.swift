import TaplineHTTPClient
@testable import TaplineProxy
import TaplineWire
import XCTest

/// RFC 8441 extended CONNECT ↔ RFC 6455 HTTP/1.1 Upgrade translation.
final class ExtendedConnectTranslatorTests: XCTestCase {
    static let request = HTTPHeaders([
        (":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "https"), (":path", "/chat?room=1"),
        (":authority", "example.test:8443"), ("sec-websocket-version", "13"), ("sec-websocket-protocol", "chat, superchat"),
        ("sec-websocket-extensions", "permessage-deflate; client_max_window_bits"), ("origin", "https://example.test"),
        ("cookie", "a=1"), ("cookie", "b=2"), ("sec-websocket-key", "c2hvdWxkIG5vdCBiZSBzZW50IQ=="),
    ])
    static let key = "dGhlIHNhbXBsZSBub25jZQ=="

    func testRecognisesAndValidatesExtendedConnect() throws {
        XCTAssertEqual(ExtendedConnectTranslator.protocolName(Self.request), "websocket")
        XCTAssertNil(ExtendedConnectTranslator.protocolName(HTTPHeaders([(":method", "CONNECT"), (":authority", "a:443")])))
        XCTAssertNil(ExtendedConnectTranslator.protocolName(HTTPHeaders([(":method", "GET"), (":protocol", "websocket")])))
        XCTAssertNoThrow(try ExtendedConnectTranslator.validate(Self.request))

        var other = Self.request
        other.replaceOrAdd(name: ":protocol", value: "webtransport")
        XCTAssertThrowsError(try ExtendedConnectTranslator.validate(other)) { error in
            XCTAssertEqual(error as? ExtendedConnectError, .unsupportedProtocol("webtransport"))
        }
        let noPath = HTTPHeaders(Self.request.fields.filter { $0.name != ":path" })
        XCTAssertThrowsError(try ExtendedConnectTranslator.validate(noPath)) { error in
            XCTAssertEqual(error as? ExtendedConnectError, .missingPseudoHeader(":path"))
        }
    }

    func testBecomesAnHTTP1UpgradeWithAFreshKey() {
        let head = ExtendedConnectTranslator.http1UpgradeRequest(Self.request, key: Self.key, hostHeader: nil,
                                                                 forwardedFor: nil)
        XCTAssertEqual(head.method, "GET")
        XCTAssertEqual(head.target, "/chat?room=1")
        XCTAssertEqual(head.version, .http1_1)
        XCTAssertEqual(head.headers.first(name: "Host"), "example.test:8443")
        XCTAssertEqual(head.headers.values(name: "Sec-WebSocket-Key"), [Self.key], "the client's key is replaced")
        XCTAssertEqual(head.headers.values(name: "Sec-WebSocket-Version"), ["13"])
        XCTAssertEqual(head.headers.first(name: "Upgrade"), "websocket")
        XCTAssertEqual(head.headers.first(name: "Connection"), "Upgrade")
        XCTAssertTrue(WebSocketHandshake.isUpgradeRequest(head))
        XCTAssertEqual(head.headers.first(name: "Sec-WebSocket-Protocol"), "chat, superchat")
        XCTAssertEqual(head.headers.first(name: "Sec-WebSocket-Extensions"), "permessage-deflate; client_max_window_bits")
        XCTAssertEqual(head.headers.first(name: "Origin"), "https://example.test")
        XCTAssertEqual(head.headers.values(name: "Cookie"), ["a=1; b=2"])
        XCTAssertFalse(head.headers.fields.contains { $0.name.hasPrefix(":") })
    }

    func testReverseModeSetsHostAndForwardedFields() {
        let head = ExtendedConnectTranslator.http1UpgradeRequest(Self.request, key: Self.key, hostHeader: "backend:9000",
                                                                 forwardedFor: ("10.0.0.5", "https"))
        XCTAssertEqual(head.headers.values(name: "Host"), ["backend:9000"])
        XCTAssertEqual(head.headers.first(name: "X-Forwarded-For"), "10.0.0.5")
        XCTAssertEqual(head.headers.first(name: "X-Forwarded-Proto"), "https")
        XCTAssertEqual(head.headers.first(name: "X-Forwarded-Host"), "example.test:8443")
    }

    func testNewKeysAreValidAndDiffer() {
        var generator = SystemRandomNumberGenerator()
        let a = WebSocketHandshake.newKey(using: &generator)
        let b = WebSocketHandshake.newKey(using: &generator)
        XCTAssertTrue(WebSocketHandshake.isValidKey(a))
        XCTAssertNotEqual(a, b)
    }

    func testA101BecomesStatus200WithTheNegotiatedFields() throws {
        let response = HTTPResponseHead(version: .http1_1, status: 101, reason: "Switching Protocols", headers: HTTPHeaders([
            ("Upgrade", "websocket"), ("Connection", "Upgrade"),
            ("Sec-WebSocket-Accept", WebSocketHandshake.acceptValue(forKey: Self.key)),
            ("Sec-WebSocket-Protocol", "chat"), ("Sec-WebSocket-Extensions", "permessage-deflate; server_no_context_takeover"),
            ("X-Server", "ws"),
        ]))
        let fields = try ExtendedConnectTranslator.http2Response(toUpgrade: response, key: Self.key)
        XCTAssertEqual(fields.fields.map(\.name),
                       [":status", "sec-websocket-protocol", "sec-websocket-extensions", "x-server"])
        XCTAssertEqual(fields.first(name: ":status"), "200")
        XCTAssertEqual(fields.first(name: "sec-websocket-extensions"), "permessage-deflate; server_no_context_takeover")
    }

    func testAnythingButAValidSwitchIsRefused() {
        func answer(_ status: Int, _ headers: [(String, String)]) -> HTTPResponseHead {
            HTTPResponseHead(version: .http1_1, status: status, reason: "", headers: HTTPHeaders(headers))
        }
        let accept = WebSocketHandshake.acceptValue(forKey: Self.key)
        let cases: [(HTTPResponseHead, ExtendedConnectError)] = [
            (answer(200, [("Content-Length", "0")]), .notSwitched(status: 200)),
            (answer(101, [("Upgrade", "h2c"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", accept)]), .wrongUpgrade),
            (answer(101, [("Upgrade", "websocket"), ("Connection", "Upgrade")]), .wrongAccept),
            (answer(101, [("Upgrade", "websocket"), ("Connection", "Upgrade"),
                          ("Sec-WebSocket-Accept", WebSocketHandshake.acceptValue(forKey: "b3RoZXIga2V5IGhlcmUhIQ=="))]),
             .wrongAccept),
        ]
        for (response, expected) in cases {
            XCTAssertThrowsError(try ExtendedConnectTranslator.http2Response(toUpgrade: response, key: Self.key)) { error in
                XCTAssertEqual(error as? ExtendedConnectError, expected)
            }
        }
    }

    func testCapturedHandshakeCountsAsWebSocket() {
        let request = HTTP2HeadTranslator.capturedRequest(Self.request)
        XCTAssertTrue(WebSocketHandshake.isExtendedConnectRequest(request))
        XCTAssertEqual(request.target, "/chat?room=1")
        let switched = HTTPResponseHead(version: .http1_1, status: 101, reason: "", headers: HTTPHeaders([("Upgrade", "websocket")]))
        let ok = HTTPResponseHead(version: .http2, status: 200, reason: "", headers: HTTPHeaders([(":status", "200")]))
        let refused = HTTPResponseHead(version: .http1_1, status: 403, reason: "", headers: HTTPHeaders())
        XCTAssertTrue(WebSocketHandshake.opensWebSocket(request: request, response: switched))
        XCTAssertTrue(WebSocketHandshake.opensWebSocket(request: request, response: ok))
        XCTAssertFalse(WebSocketHandshake.opensWebSocket(request: request, response: refused))
        let plainConnect = HTTP2HeadTranslator.capturedRequest(HTTPHeaders([(":method", "CONNECT"), (":authority", "a:443")]))
        XCTAssertFalse(WebSocketHandshake.opensWebSocket(request: plainConnect, response: ok))
    }
}
