import TaplineWire
import XCTest
@testable import TaplineReplay

/// How the mock accepts a WebSocket opening: which recordings it matches (an Upgrade
/// and a recorded RFC 8441 CONNECT match each other; a plain request does not match an
/// opening), and the 101 it answers (accept value, subprotocol, permessage-deflate
/// fitted to the client's offer).
final class MockWebSocketAnswerTests: XCTestCase {
    private let key = "dGhlIHNhbXBsZSBub25jZQ=="

    private func upgrade(_ target: String, _ extra: [(String, String)] = []) -> MockRequest {
        let headers = [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Key", key),
                       ("Sec-WebSocket-Version", "13")] + extra
        return MockRequest(method: "GET", target: target, headers: HTTPHeaders(headers.map { (name: $0.0, value: $0.1) }),
                           body: [])
    }

    func testARecordedExtendedConnectAndALiveUpgradeMatchEachOtherAndAPlainRequestMatchesNeither() throws {
        let fixture = try MockRecordingFixture()
        let recordings = [
            try fixture.recording("CONNECT", "/chat", requestHeaders: [(":method", "CONNECT"), (":protocol", "websocket"),
                                                                       (":path", "/chat")], version: .http2),
            try fixture.recording("GET", "/feed", requestHeaders: [("Upgrade", "websocket"), ("Connection", "Upgrade")],
                                  status: 101),
            try fixture.recording("GET", "/plain"),
        ]
        let matcher = MockRequestMatcher()
        XCTAssertEqual(recordings[0].request.method, "GET", "an RFC 8441 opening is compared as the GET it stands for")
        XCTAssertEqual(matcher.matches(upgrade("/chat"), in: recordings), [0])
        XCTAssertEqual(matcher.matches(upgrade("/feed"), in: recordings), [1])
        XCTAssertEqual(matcher.matches(upgrade("/plain"), in: recordings), [])
        XCTAssertEqual(matcher.mismatches(upgrade("/plain"), recordings[2].request),
                       [MockMismatch(field: "upgrade", recorded: "none", received: "websocket")])
        let plain = MockRequest(method: "GET", target: "/feed", headers: HTTPHeaders(), body: [])
        XCTAssertEqual(matcher.matches(plain, in: recordings), [], "a plain GET is not a WebSocket opening")
    }

    func testThe101CarriesTheAcceptValueAndTheRecordedSubprotocolAndExtensionsTheClientOffered() throws {
        let fixture = try MockRecordingFixture()
        let recording = try fixture.recording("GET", "/feed", status: 101, responseHeaders: [
            ("Upgrade", "websocket"), ("Sec-WebSocket-Protocol", "chat.v1"),
            ("Sec-WebSocket-Extensions", "permessage-deflate; server_no_context_takeover; client_max_window_bits=12"),
        ])
        let offered = upgrade("/feed", [("Sec-WebSocket-Protocol", "chat.v0, chat.v1"),
                                        ("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits")])
        let answer = try XCTUnwrap(MockWebSocketAnswer(recording: recording, request: offered,
                                                       options: MockResponder.Options(), delayMilliseconds: 0))
        XCTAssertEqual(answer.head.status, 101)
        XCTAssertEqual(answer.head.headers.first(name: "Sec-WebSocket-Accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
                       "RFC 6455 §1.3's example")
        XCTAssertEqual(answer.head.headers.first(name: "Sec-WebSocket-Protocol"), "chat.v1")
        XCTAssertEqual(answer.head.headers.first(name: "Sec-WebSocket-Extensions"),
                       "permessage-deflate; server_no_context_takeover; client_max_window_bits=12")

        let bare = try XCTUnwrap(MockWebSocketAnswer(recording: recording, request: upgrade("/feed"),
                                                     options: MockResponder.Options(), delayMilliseconds: 0))
        XCTAssertNil(bare.head.headers.first(name: "Sec-WebSocket-Protocol"), "not offered: not selected")
        XCTAssertNil(bare.head.headers.first(name: "Sec-WebSocket-Extensions"))
        XCTAssertNil(bare.deflate)

        var noKey = upgrade("/feed")
        noKey.headers.remove(name: "Sec-WebSocket-Key")
        XCTAssertNil(MockWebSocketAnswer(recording: recording, request: noKey, options: MockResponder.Options(),
                                         delayMilliseconds: 0))
    }

    func testTheDeflateParametersFollowTheOffer() {
        let recorded = HTTPHeaders([("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits=10")])
        let withoutClientBits = MockWebSocketAnswer.acceptedDeflate(
            recorded: recorded, offered: HTTPHeaders([("Sec-WebSocket-Extensions", "permessage-deflate")]))
        XCTAssertEqual(withoutClientBits, PerMessageDeflateParameters(), "client_max_window_bits needs the client's offer")
        let limited = MockWebSocketAnswer.acceptedDeflate(
            recorded: recorded, offered: HTTPHeaders([("Sec-WebSocket-Extensions",
                                                       "permessage-deflate; server_max_window_bits=9; client_max_window_bits")]))
        XCTAssertEqual(limited, PerMessageDeflateParameters(serverMaxWindowBits: 9, clientMaxWindowBits: 10))
        XCTAssertNil(MockWebSocketAnswer.acceptedDeflate(recorded: HTTPHeaders(), offered: HTTPHeaders([
            ("Sec-WebSocket-Extensions", "permessage-deflate")])), "not recorded: not accepted")
    }
}
