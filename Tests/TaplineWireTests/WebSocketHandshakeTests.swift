import TaplineWire
import XCTest

final class WebSocketHandshakeTests: XCTestCase {
    func testAcceptValueFromTheRFC() {
        XCTAssertEqual(WebSocketHandshake.acceptValue(forKey: "dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        XCTAssertTrue(WebSocketHandshake.isValidKey("dGhlIHNhbXBsZSBub25jZQ=="))
        XCTAssertFalse(WebSocketHandshake.isValidKey("dGhlIHNhbXBsZQ=="))
        XCTAssertFalse(WebSocketHandshake.isValidKey("not base64!"))
    }

    func testSHA1AndBase64KnownAnswers() {
        func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
        XCTAssertEqual(hex(SHA1.digest([UInt8]())), "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        XCTAssertEqual(hex(SHA1.digest(Array("abc".utf8))), "a9993e364706816aba3e25717850c26c9cd0d89d")
        XCTAssertEqual(hex(SHA1.digest(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))),
                       "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        XCTAssertEqual(hex(SHA1.digest([UInt8](repeating: 0x61, count: 1_000_000))), "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
        for (plain, encoded) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="),
                                 ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")] {
            XCTAssertEqual(Base64.encode(Array(plain.utf8)), encoded)
            XCTAssertEqual(Base64.decode(encoded), Array(plain.utf8))
        }
        XCTAssertNil(Base64.decode("Zg="))
        XCTAssertNil(Base64.decode("Z=g="))
    }

    func testUpgradeDetection() {
        var headers = HTTPHeaders([("Host", "x"), ("Upgrade", "WebSocket"), ("Connection", "keep-alive, Upgrade")])
        XCTAssertTrue(WebSocketHandshake.isUpgradeRequest(HTTPRequestHead(method: "GET", target: "/", headers: headers)))
        headers.replaceOrAdd(name: "Upgrade", value: "h2c")
        XCTAssertFalse(WebSocketHandshake.isUpgradeRequest(HTTPRequestHead(method: "GET", target: "/", headers: headers)))
        XCTAssertTrue(WebSocketHandshake.isUpgradeResponse(HTTPResponseHead(status: 101, headers: HTTPHeaders([("Upgrade", "websocket")]))))
        XCTAssertFalse(WebSocketHandshake.isUpgradeResponse(HTTPResponseHead(status: 200, headers: HTTPHeaders([("Upgrade", "websocket")]))))
    }

    func testExtensionParsing() throws {
        let parsed = try WebSocketExtension.parse([
            "permessage-deflate; client_max_window_bits; server_max_window_bits=10, x-webkit-deflate-frame",
            "Permessage-Deflate;server_no_context_takeover; client_max_window_bits=\"12\"",
        ])
        XCTAssertEqual(parsed.map(\.name), ["permessage-deflate", "x-webkit-deflate-frame", "permessage-deflate"])
        XCTAssertEqual(parsed[0].parameters, [.init(name: "client_max_window_bits", value: nil),
                                              .init(name: "server_max_window_bits", value: "10")])
        XCTAssertEqual(parsed[2].parameters.last, .init(name: "client_max_window_bits", value: "12"))
        XCTAssertEqual(parsed[0].headerValue, "permessage-deflate; client_max_window_bits; server_max_window_bits=10")
        XCTAssertThrowsError(try WebSocketExtension.parse(["permessage-deflate; a=\"1"]))
        XCTAssertThrowsError(try WebSocketExtension.parse(["bad name; x"]))
        XCTAssertEqual(try WebSocketExtension.parse([" , "]), [])
    }

    func testPerMessageDeflateNegotiation() throws {
        let offer = try PerMessageDeflateParameters(
            WebSocketExtension.parse(["permessage-deflate; client_max_window_bits"])[0], isResponse: false)
        XCTAssertTrue(offer.clientMaxWindowBitsOffered)
        XCTAssertNil(offer.clientMaxWindowBits)
        XCTAssertThrowsError(try PerMessageDeflateParameters(
            WebSocketExtension.parse(["permessage-deflate; client_max_window_bits"])[0], isResponse: true))

        let response = HTTPHeaders([("Sec-WebSocket-Extensions",
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=12")])
        let negotiated = try XCTUnwrap(PerMessageDeflateParameters.negotiated(responseHeaders: response))
        XCTAssertEqual(negotiated, PerMessageDeflateParameters(serverNoContextTakeover: true, clientNoContextTakeover: true,
                                                               serverMaxWindowBits: 9, clientMaxWindowBits: 12))
        XCTAssertEqual(negotiated.serverWindowBits, 9)
        XCTAssertEqual(negotiated.clientWindowBits, 12)
        XCTAssertEqual(negotiated.extensionElement.headerValue,
                       "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=12")
        XCTAssertNil(try PerMessageDeflateParameters.negotiated(responseHeaders: HTTPHeaders([("Sec-WebSocket-Extensions", "foo")])))
        XCTAssertEqual(try PerMessageDeflateParameters.negotiated(responseHeaders: HTTPHeaders([("Sec-WebSocket-Extensions", "permessage-deflate")]))?.clientWindowBits, 15)

        for bad in ["permessage-deflate; server_max_window_bits=7", "permessage-deflate; server_max_window_bits=16",
                    "permessage-deflate; server_max_window_bits=010", "permessage-deflate; server_no_context_takeover=1",
                    "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
                    "permessage-deflate; unknown_thing"] {
            XCTAssertThrowsError(try PerMessageDeflateParameters.negotiated(
                responseHeaders: HTTPHeaders([("Sec-WebSocket-Extensions", bad)])), bad)
        }
    }

    func testCloseHandshake() {
        var handshake = WebSocketCloseHandshake()
        XCTAssertNil(handshake.awaitingAnswerFrom)
        handshake.closeReceived(from: .client, WebSocketClosePayload(code: 1000, reason: "done"))
        XCTAssertEqual(handshake.initiator, .client)
        XCTAssertEqual(handshake.awaitingAnswerFrom, .server)
        XCTAssertFalse(handshake.isComplete)
        handshake.closeReceived(from: .client, WebSocketClosePayload(code: 1001))
        XCTAssertEqual(handshake.clientClose?.code, 1000, "only the first close counts")
        handshake.closeReceived(from: .server, WebSocketClosePayload(code: nil))
        XCTAssertTrue(handshake.isComplete)
        XCTAssertNil(handshake.awaitingAnswerFrom)
        XCTAssertEqual(handshake.initiator, .client)
    }

    func testUTF8Validator() {
        let samples = ["", "ascii", "ÿ", "€", "𝄞", "mixed ✓ text 𝄞 ok"]
        for sample in samples {
            let bytes = Array(sample.utf8)
            XCTAssertTrue(UTF8Validator.isValidUTF8(bytes))
            for split in 0...bytes.count {
                var validator = UTF8Validator()
                XCTAssertTrue(validator.validate(bytes[..<split]))
                XCTAssertTrue(validator.validate(bytes[split...]))
                XCTAssertTrue(validator.isComplete)
            }
        }
        // Every 1..3-byte sequence agrees with the standard library's decoder.
        for a in 0...255 {
            for b in stride(from: 0, through: 255, by: 1) where a >= 0xC0 || b == 0 {
                for c in [0x00, 0x80, 0xBF, 0xC0] {
                    let bytes = [UInt8(a), UInt8(b), UInt8(c)]
                    let reference = String(validating: bytes, as: UTF8.self) != nil
                    XCTAssertEqual(UTF8Validator.isValidUTF8(bytes), reference, "\(bytes)")
                }
            }
        }
    }
}
