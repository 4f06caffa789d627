import TaplineWire
import XCTest

/// Frame-level rules, each checked with the input split at every byte offset.
final class WebSocketFrameDecoderTests: XCTestCase {
    private func expectError(_ bytes: [UInt8], role: WebSocketRole = .server, compression: Bool = false,
                             _ expected: WebSocketProtocolError, code: UInt16,
                             file: StaticString = #filePath, line: UInt = #line) {
        let outcome = WebSocketOutcome.decodeEverySplit(bytes, role: role, compression: compression, file: file, line: line)
        XCTAssertEqual(outcome.error, expected, file: file, line: line)
        XCTAssertEqual(outcome.error?.closeCode, code, file: file, line: line)
    }

    func testEveryFrameKindFromBothRolesAtEveryOffset() {
        let kinds: [(UInt8, WebSocketOpcode, [UInt8])] = [
            (0x1, .text, Array("héllo wörld".utf8)),
            (0x2, .binary, [0, 1, 2, 0xff, 0xfe]),
            (0x9, .ping, Array("ping!".utf8)),
            (0xA, .pong, Array("pong!".utf8)),
            (0x8, .close, [0x03, 0xe8] + Array("bye".utf8)),
        ]
        for (raw, opcode, payload) in kinds {
            for role in [WebSocketRole.server, .client] {
                let bytes = role == .server ? RawFrame.client(raw, payload) : RawFrame.server(raw, payload)
                let outcome = WebSocketOutcome.decodeEverySplit(bytes, role: role)
                XCTAssertNil(outcome.error, "\(opcode) \(role)")
                XCTAssertEqual(outcome.messages.count, 1)
                XCTAssertEqual(outcome.messages.first?.opcode, opcode)
                XCTAssertEqual(outcome.messages.first?.payload, payload)
                XCTAssertEqual(outcome.messages.first?.wireBytes, UInt64(bytes.count))
            }
        }
        let close = WebSocketOutcome.decodeEverySplit(RawFrame.client(0x8, [0x03, 0xe8] + Array("bye".utf8)))
        XCTAssertEqual(close.messages.first?.close, WebSocketClosePayload(code: 1000, reason: "bye"))
        let empty = WebSocketOutcome.decodeEverySplit(RawFrame.client(0x8, []))
        XCTAssertEqual(empty.messages.first?.close, WebSocketClosePayload(code: nil))
    }

    func testPayloadLengthBoundaries() {
        for size in [0, 125, 126, 65535, 65536] {
            let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            let bytes = RawFrame.client(0x2, payload)
            let expectedHeader = 2 + 4 + (size < 126 ? 0 : size <= 0xFFFF ? 2 : 8)
            XCTAssertEqual(bytes.count, expectedHeader + size)
            // Every split for the small ones; a sample of splits (header region + ends) for the large.
            if size <= 126 {
                let outcome = WebSocketOutcome.decodeEverySplit(bytes)
                XCTAssertEqual(outcome.messages, [WebSocketMessage(opcode: .binary, payload: payload,
                                                                   wireBytes: UInt64(bytes.count))], "size \(size)")
            } else {
                let whole = WebSocketOutcome.decode([bytes[...]])
                XCTAssertEqual(whole.messages.first?.payload, payload, "size \(size)")
                XCTAssertEqual(whole.messages.first?.wireBytes, UInt64(bytes.count))
                for split in Array(0...16) + [bytes.count / 2, bytes.count - 1, bytes.count] {
                    XCTAssertEqual(WebSocketOutcome.decode([bytes[..<split], bytes[split...]]), whole, "size \(size) split \(split)")
                }
            }
            // Unmasked (server) frames of the same sizes.
            let server = RawFrame.server(0x2, payload)
            XCTAssertEqual(WebSocketOutcome.decode([server[...]], role: .client).messages.first?.payload, payload)
        }
    }

    func testTwentyMebibytePayloadStreams() {
        let size = 20 << 20
        var payload = [UInt8](repeating: 0, count: size)
        for i in stride(from: 0, to: size, by: 4093) { payload[i] = UInt8(truncatingIfNeeded: i) }
        let frame = RawFrame.client(0x2, payload)
        var decoder = WebSocketFrameDecoder(role: .server)
        var received: [UInt8] = []
        received.reserveCapacity(size)
        var pieces = 0
        var header: WebSocketFrameHeader?
        var ended = false
        var offset = 0
        while offset < frame.count {
            let end = min(frame.count, offset + 1_000_003)
            decoder.append(frame[offset..<end])
            offset = end
            while let event = try? decoder.nextEvent() {
                switch event {
                case .head(let h): header = h
                case .payload(let bytes): received += bytes; pieces += 1
                case .end: ended = true
                }
            }
        }
        XCTAssertEqual(header?.payloadLength, UInt64(size))
        XCTAssertEqual(header?.headerLength, 14)
        XCTAssertTrue(ended)
        XCTAssertGreaterThan(pieces, 10, "a large payload arrives in pieces, not buffered whole")
        XCTAssertTrue(received == payload)
        let message = WebSocketOutcome.decode([frame[...]])
        XCTAssertEqual(message.messages.first?.payload.count, size)
        XCTAssertTrue(message.messages.first?.payload == payload)
    }

    func testMaskingRules() {
        // Masked frames from a server and unmasked frames from a client are refused.
        expectError(RawFrame.server(0x1, Array("hi".utf8)), role: .server, .unmaskedFrameFromClient, code: 1002)
        expectError(RawFrame.client(0x1, Array("hi".utf8)), role: .client, .maskedFrameFromServer, code: 1002)
        // The masking key is applied from the start of each frame, across pieces.
        let payload = Array("The quick brown fox jumps over the lazy dog, masked".utf8)
        let frame = RawFrame.client(0x1, payload)
        XCTAssertNotEqual(Array(frame.suffix(payload.count)), payload)
        XCTAssertEqual(WebSocketOutcome.decodeEverySplit(frame).messages.first?.payload, payload)
    }

    func testReservedOpcodes() {
        for opcode: UInt8 in [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF] {
            expectError(RawFrame.client(opcode, [1, 2, 3]), .reservedOpcode(opcode), code: 1002)
        }
    }

    func testReservedBitsWithoutAnExtension() {
        expectError(RawFrame.client(0x1, Array("x".utf8), rsv: 0x40), .reservedBitsSet(bits: 0x40, opcode: .text), code: 1002)
        expectError(RawFrame.client(0x2, [1], rsv: 0x20), .reservedBitsSet(bits: 0x20, opcode: .binary), code: 1002)
        expectError(RawFrame.client(0x2, [1], rsv: 0x10), .reservedBitsSet(bits: 0x10, opcode: .binary), code: 1002)
        // With permessage-deflate RSV1 is allowed on the first frame only, never on control frames.
        expectError(RawFrame.client(0x9, [1], rsv: 0x40), compression: true, .reservedBitsSet(bits: 0x40, opcode: .ping), code: 1002)
        expectError(RawFrame.client(0x2, [1], rsv: 0x20), compression: true, .reservedBitsSet(bits: 0x20, opcode: .binary), code: 1002)
        let continued = RawFrame.client(0x2, [1], fin: false, rsv: 0x40) + RawFrame.client(0x0, [2], rsv: 0x40)
        expectError(continued, compression: true, .reservedBitsSet(bits: 0x40, opcode: .continuation), code: 1002)
        let ok = WebSocketOutcome.decodeEverySplit(RawFrame.client(0x2, [1, 2], rsv: 0x40), compression: true)
        XCTAssertEqual(ok.messages.first?.compressed, true)
    }

    func testOversizedAndFragmentedControlFrames() {
        for opcode: UInt8 in [0x8, 0x9, 0xA] {
            let payload = [UInt8](repeating: 0x41, count: 126)
            expectError(RawFrame.client(opcode, payload), .controlFrameTooLarge(WebSocketOpcode(rawValue: opcode)!), code: 1002)
            expectError(RawFrame.client(opcode, [0x03, 0xe8], fin: false),
                        .fragmentedControlFrame(WebSocketOpcode(rawValue: opcode)!), code: 1002)
        }
        // 125 bytes is the maximum and fine.
        let ping = WebSocketOutcome.decodeEverySplit(RawFrame.client(0x9, [UInt8](repeating: 7, count: 125)))
        XCTAssertEqual(ping.messages.first?.payload.count, 125)
    }

    func testSixtyFourBitLengthWithTopBitSet() {
        var frame: [UInt8] = [0x82, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 1]
        frame += RawFrame.key
        expectError(frame, .payloadLengthTopBitSet, code: 1002)
        var server: [UInt8] = [0x82, 127, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        server += [1, 2, 3]
        expectError(server, role: .client, .payloadLengthTopBitSet, code: 1002)
    }

    func testNonMinimalLengthsAreAcceptedAndCountedAsSent() {
        let frame = RawFrame.bytes(first: 0x82, payload: [1, 2, 3], key: RawFrame.key, lengthForm: 64)
        let outcome = WebSocketOutcome.decodeEverySplit(frame)
        XCTAssertEqual(outcome.messages.first?.payload, [1, 2, 3])
        XCTAssertEqual(outcome.messages.first?.wireBytes, UInt64(frame.count))
    }

    func testErrorsAreSticky() {
        var decoder = WebSocketFrameDecoder(role: .server)
        decoder.append(RawFrame.client(0x3, []))
        XCTAssertThrowsError(try decoder.nextEvent())
        decoder.append(RawFrame.client(0x1, Array("ok".utf8)))
        XCTAssertThrowsError(try decoder.nextEvent()) { XCTAssertEqual($0 as? WebSocketProtocolError, .reservedOpcode(3)) }
    }
}
