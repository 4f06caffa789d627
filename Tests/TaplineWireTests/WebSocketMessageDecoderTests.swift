import TaplineWire
import XCTest

/// Rules that span frames: fragmentation, interleaved control frames, UTF-8
/// across fragments, message size, close payloads — each split at every offset.
final class WebSocketMessageDecoderTests: XCTestCase {
    func testFragmentedMessageWithPingsBetweenFragments() {
        let text = "fragmented ✓ message across three frames"
        let utf8 = Array(text.utf8)
        // Cut inside the multi-byte ✓ so UTF-8 validation must carry state across frames.
        let cut1 = 12, cut2 = 25
        let bytes = RawFrame.client(0x1, Array(utf8[..<cut1]), fin: false)
            + RawFrame.client(0x9, Array("p1".utf8))
            + RawFrame.client(0x0, Array(utf8[cut1..<cut2]), fin: false)
            + RawFrame.client(0xA, [])
            + RawFrame.client(0x9, Array("p2".utf8))
            + RawFrame.client(0x0, Array(utf8[cut2...]))
            + RawFrame.client(0x2, [9, 8, 7])
        let outcome = WebSocketOutcome.decodeEverySplit(bytes)
        XCTAssertNil(outcome.error)
        XCTAssertEqual(outcome.messages.map(\.opcode), [.ping, .pong, .ping, .text, .binary])
        XCTAssertEqual(outcome.messages[0].payload, Array("p1".utf8))
        XCTAssertEqual(outcome.messages[3].payload, utf8)
        XCTAssertEqual(outcome.messages[3].frameCount, 3)
        let textWire = RawFrame.client(0x1, Array(utf8[..<cut1]), fin: false).count
            + RawFrame.client(0x0, Array(utf8[cut1..<cut2]), fin: false).count + RawFrame.client(0x0, Array(utf8[cut2...])).count
        XCTAssertEqual(outcome.messages[3].wireBytes, UInt64(textWire))
        XCTAssertEqual(outcome.messages[4].payload, [9, 8, 7])
    }

    func testServerFragmentsWithEmptyFrames() {
        let bytes = RawFrame.server(0x2, [], fin: false) + RawFrame.server(0x0, [1], fin: false)
            + RawFrame.server(0x9, []) + RawFrame.server(0x0, [])
        let outcome = WebSocketOutcome.decodeEverySplit(bytes, role: .client)
        XCTAssertEqual(outcome.messages.map(\.opcode), [.ping, .binary])
        XCTAssertEqual(outcome.messages[1].payload, [1])
        XCTAssertEqual(outcome.messages[1].frameCount, 3)
    }

    func testContinuationRules() {
        let stray = WebSocketOutcome.decodeEverySplit(RawFrame.client(0x0, [1]))
        XCTAssertEqual(stray.error, .unexpectedContinuation)
        XCTAssertEqual(stray.error?.closeCode, 1002)
        let interrupted = WebSocketOutcome.decodeEverySplit(RawFrame.client(0x1, Array("a".utf8), fin: false)
                                                            + RawFrame.client(0x2, [1]))
        XCTAssertEqual(interrupted.error, .expectedContinuation(.binary))
        XCTAssertEqual(interrupted.error?.closeCode, 1002)
    }

    func testInvalidUTF8IsCaughtAcrossFragmentsWith1007() {
        let cases: [[UInt8]] = [
            [0xff],  // never valid
            [0xc0, 0xaf],  // overlong '/'
            [0xed, 0xa0, 0x80],  // surrogate U+D800
            [0xf4, 0x90, 0x80, 0x80],  // above U+10FFFF
            Array("ok".utf8) + [0xe2, 0x9c],  // cut at the end of the message
            [0x80],  // stray continuation
        ]
        for bad in cases {
            let single = WebSocketOutcome.decodeEverySplit(RawFrame.client(0x1, bad))
            XCTAssertEqual(single.error, .invalidUTF8, "\(bad)")
            XCTAssertEqual(single.error?.closeCode, 1007)
            let fragmented = RawFrame.client(0x1, Array("ab".utf8) + bad.prefix(1), fin: false)
                + RawFrame.client(0x0, Array(bad.dropFirst()))
            XCTAssertEqual(WebSocketOutcome.decodeEverySplit(fragmented).error, .invalidUTF8, "\(bad) fragmented")
        }
        // Fail fast: the error comes with the bad fragment, before the message ends.
        var decoder = WebSocketMessageDecoder(role: .server)
        decoder.append(RawFrame.client(0x1, [0x61, 0xff], fin: false))
        XCTAssertThrowsError(try decoder.nextMessage()) { XCTAssertEqual($0 as? WebSocketProtocolError, .invalidUTF8) }
        // Binary is not validated; compressed text is validated after inflation, not here.
        XCTAssertNil(WebSocketOutcome.decodeEverySplit(RawFrame.client(0x2, [0xff])).error)
        XCTAssertNil(WebSocketOutcome.decodeEverySplit(RawFrame.client(0x1, [0xff], rsv: 0x40), compression: true).error)
    }

    func testMessageOverTheLimitIsCutNotFailed() {
        let ok = WebSocketOutcome.decodeEverySplit(RawFrame.client(0x2, [UInt8](repeating: 1, count: 100)), maxMessageBytes: 100)
        XCTAssertEqual(ok.messages.first?.payload.count, 100)
        XCTAssertEqual(ok.messages.first?.isCapped, false)
        // One frame over the limit, then a ping and a close: the first 100 bytes are kept, the
        // real size is reported, and the frames after it are still decoded.
        let payload = (0..<130).map { UInt8($0) }
        let bytes = RawFrame.client(0x2, payload) + RawFrame.client(0x9, [7]) + RawFrame.client(0x8, [0x03, 0xE8])
        let big = WebSocketOutcome.decodeEverySplit(bytes, maxMessageBytes: 100)
        XCTAssertNil(big.error)
        XCTAssertEqual(big.messages.map(\.opcode), [.binary, .ping, .close])
        guard big.messages.count == 3 else { return }
        XCTAssertEqual(big.messages[0].payload, Array(payload.prefix(100)))
        XCTAssertEqual(big.messages[0].payloadSize, 130)
        XCTAssertEqual(big.messages[0].wireBytes, UInt64(RawFrame.client(0x2, payload).count))
        XCTAssertTrue(big.messages[0].isCapped)
        XCTAssertEqual(big.messages[2].close?.code, 1000)
        // Fragments that pass the limit together, with a ping between them; text still
        // validated past the cut (the bad byte is beyond it).
        let fragments = RawFrame.client(0x1, [UInt8](repeating: 0x61, count: 60), fin: false) + RawFrame.client(0x9, [])
            + RawFrame.client(0x0, [UInt8](repeating: 0x62, count: 60))
        let joined = WebSocketOutcome.decodeEverySplit(fragments + RawFrame.client(0x1, [0x63]), maxMessageBytes: 100)
        XCTAssertNil(joined.error)
        XCTAssertEqual(joined.messages.map(\.opcode), [.ping, .text, .text])
        guard joined.messages.count == 3 else { return }
        XCTAssertEqual(joined.messages[1].payload, [UInt8](repeating: 0x61, count: 60) + [UInt8](repeating: 0x62, count: 40))
        XCTAssertEqual(joined.messages[1].payloadSize, 120)
        XCTAssertEqual(joined.messages[1].frameCount, 2)
        XCTAssertEqual(joined.messages[2].payload, [0x63])
        XCTAssertFalse(joined.messages[2].isCapped)
        let badText = RawFrame.client(0x1, [UInt8](repeating: 0x61, count: 120) + [0xff])
        XCTAssertEqual(WebSocketOutcome.decodeEverySplit(badText, maxMessageBytes: 100).error, .invalidUTF8)
        // A compressed message is bounded before inflation the same way.
        let compressed = WebSocketOutcome.decodeEverySplit(RawFrame.client(0x2, payload, rsv: 0x40), compression: true,
                                                           maxMessageBytes: 100)
        XCTAssertEqual(compressed.messages.first?.payload.count, 100)
        XCTAssertEqual(compressed.messages.first?.payloadSize, 130)
        XCTAssertEqual(compressed.messages.first?.compressed, true)
    }

    func testMessageOverTheLimitIsNotHeldPastIt() {
        // A frame announcing 4 GiB: nothing is reserved or held past the limit while it streams.
        var decoder = WebSocketMessageDecoder(role: .client, maxMessageBytes: 1000)
        decoder.append([0x82, 127, 0, 0, 0, 1, 0, 0, 0, 0])
        XCTAssertNil(try decoder.nextMessage())
        for _ in 0..<64 {
            decoder.append([UInt8](repeating: 9, count: 4096))
            XCTAssertNil(try decoder.nextMessage())
            XCTAssertEqual(decoder.bufferedByteCount, 0)
        }
        XCTAssertEqual(decoder.heldPayloadByteCount, 1000)
        XCTAssertTrue(decoder.isInsideMessage)
    }

    func testClosePayloads() {
        let codes: [(UInt16, Bool)] = [(1000, true), (1001, true), (1003, true), (1007, true), (1011, true), (1014, true),
                                      (3000, true), (4999, true), (999, false), (1004, false), (1005, false),
                                      (1006, false), (1015, false), (1016, false), (2999, false), (5000, false), (0, false)]
        for (code, valid) in codes {
            let frame = RawFrame.client(0x8, [UInt8(code >> 8), UInt8(code & 0xff)] + Array("why".utf8))
            let outcome = WebSocketOutcome.decodeEverySplit(frame)
            if valid {
                XCTAssertEqual(outcome.messages.first?.close, WebSocketClosePayload(code: code, reason: "why"), "\(code)")
            } else {
                XCTAssertEqual(outcome.error, .invalidCloseCode(code), "\(code)")
                XCTAssertEqual(outcome.error?.closeCode, 1002)
            }
        }
        let short = WebSocketOutcome.decodeEverySplit(RawFrame.client(0x8, [0x03]))
        XCTAssertEqual(short.error, .closePayloadTooShort)
        XCTAssertEqual(short.error?.closeCode, 1002)
        let badReason = WebSocketOutcome.decodeEverySplit(RawFrame.client(0x8, [0x03, 0xe8, 0xff]))
        XCTAssertEqual(badReason.error, .invalidCloseReason)
        XCTAssertEqual(badReason.error?.closeCode, 1007)
    }

    func testNothingAfterClose() {
        let bytes = RawFrame.client(0x8, [0x03, 0xe8]) + RawFrame.client(0x1, Array("late".utf8))
        let outcome = WebSocketOutcome.decodeEverySplit(bytes)
        XCTAssertEqual(outcome.messages.count, 1)
        XCTAssertEqual(outcome.error, .frameAfterClose(.text))
    }

    func testEncoderRoundTripsThroughTheDecoderForBothRoles() {
        for role in [WebSocketRole.client, .server] {
            let encoder = WebSocketFrameEncoder(role: role)
            let receiver: WebSocketRole = role == .client ? .server : .client
            var bytes: [UInt8] = []
            var expected: [WebSocketMessage] = []
            for size in [0, 1, 125, 126, 127, 65535, 65536, 70000] {
                let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0 * 7 + size) }
                let frame = encoder.frame(.binary, payload: payload)
                XCTAssertEqual(frame.count, payload.count + 2 + (size < 126 ? 0 : size <= 65535 ? 2 : 8) + (role == .client ? 4 : 0))
                bytes += frame
                expected.append(WebSocketMessage(opcode: .binary, payload: payload, wireBytes: UInt64(frame.count)))
            }
            let close = encoder.closeFrame(WebSocketClosePayload(code: 1001, reason: "going away"))
            bytes += close
            expected.append(WebSocketMessage(opcode: .close, payload: WebSocketClosePayload(code: 1001, reason: "going away").bytes,
                                             wireBytes: UInt64(close.count),
                                             close: WebSocketClosePayload(code: 1001, reason: "going away")))
            let outcome = WebSocketOutcome.decode([bytes[...]], role: receiver)
            XCTAssertNil(outcome.error)
            XCTAssertEqual(outcome.messages, expected)
        }
        // A given mask key is used as given.
        let masked = WebSocketFrameEncoder(role: .client).frame(.text, payload: Array("Hello".utf8), maskKey: 0x37fa213d)
        XCTAssertEqual(masked, [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58])  // RFC 6455 §5.7
    }
}
