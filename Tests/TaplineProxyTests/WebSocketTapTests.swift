@testable import TaplineProxy
import TaplineCompression
import TaplineFlow
import TaplineWire
import XCTest

/// The proxy's decoding of a relayed WebSocket: permessage-deflate per direction with
/// and without context takeover, fragments, a final-block message, a bomb, the close
/// handshake, what comes after a message cut at the decoding cap, and a violation that
/// stops decoding one direction only.
final class WebSocketTapTests: XCTestCase {
    private let client = WebSocketFrameEncoder(role: .client)
    private let server = WebSocketFrameEncoder(role: .server)

    /// A permessage-deflate payload: sync-flushed, trailing `00 00 ff ff` removed.
    private func deflated(_ text: String, with deflater: ZlibDeflater) throws -> [UInt8] {
        var out: [UInt8] = []
        try deflater.compress(Array(text.utf8), flush: .sync, into: &out)
        XCTAssertEqual(Array(out.suffix(4)), [0, 0, 0xff, 0xff])
        return Array(out.dropLast(4))
    }

    /// Collects a tap's output as whole records: a streamed message gets back the payload
    /// of the pieces recorded ahead of it (checked against its `streamedPayloadSize`).
    private struct Collector {
        var records: [WebSocketMessageRecord] = []
        var pieces: [UInt8] = []
        var largestPiece = 0
        /// Pieces without bytes: the encoder would store each as a zero-length extent.
        var emptyPieces = 0

        mutating func take(_ output: WebSocketTapOutput) {
            switch output {
            case .payloadPiece(_, let piece):
                if piece.isEmpty { emptyPieces += 1 }
                pieces += piece
                largestPiece = max(largestPiece, piece.count)
            case .message(var record):
                if let size = record.streamedPayloadSize {
                    XCTAssertEqual(size, UInt64(pieces.count))
                    XCTAssertEqual(record.payload, [])
                    record.payload = pieces
                    record.streamedPayloadSize = nil
                    pieces = []
                }
                records.append(record)
            }
        }
    }

    private func feed(_ tap: inout WebSocketTap, _ bytes: [UInt8], fromClient: Bool) -> [WebSocketMessageRecord] {
        var collector = Collector()
        // Byte by byte: the tap must not depend on how reads were cut.
        for byte in bytes { tap.receive([byte][...], fromClient: fromClient) { collector.take($0) } }
        XCTAssertEqual(collector.pieces, [], "payload pieces without their message")
        return collector.records
    }

    func testCompressedMessagesBothWaysWithAndWithoutContextTakeover() throws {
        let response = HTTPResponseHead(status: 101, headers: HTTPHeaders([
            ("Upgrade", "websocket"),
            ("Sec-WebSocket-Extensions", "permessage-deflate; client_no_context_takeover; server_max_window_bits=12")]))
        var tap = WebSocketTap(handshakeResponse: response)
        let clientDeflater = try ZlibDeflater(format: .raw(windowBits: 15))
        let serverDeflater = try ZlibDeflater(format: .raw(windowBits: 12))
        let text = String(repeating: "websocket through tapline ", count: 40)

        var clientBytes: [UInt8] = []
        for _ in 0..<3 {
            clientDeflater.reset()  // client_no_context_takeover
            clientBytes += client.frame(.text, payload: try deflated(text, with: clientDeflater), reservedBits: 0x40)
        }
        let fromClient = feed(&tap, clientBytes, fromClient: true)
        XCTAssertEqual(fromClient.map(\.payload), Array(repeating: Array(text.utf8), count: 3))
        XCTAssertTrue(fromClient.allSatisfy { $0.compressed && $0.fromClient && $0.opcode == .text })

        // Server keeps its context: the second message refers back to the first.
        let first = try deflated(text, with: serverDeflater), second = try deflated(text, with: serverDeflater)
        XCTAssertLessThan(second.count, first.count)
        // The second one is fragmented, with a ping in between (RSV1 only on the first fragment).
        let half = second.count / 2
        let serverBytes = server.frame(.text, payload: first, reservedBits: 0x40)
            + server.frame(.text, payload: second[..<half], fin: false, reservedBits: 0x40)
            + server.frame(.ping, payload: Array("p".utf8))
            + server.frame(.continuation, payload: second[half...])
            + server.frame(.binary, payload: [1, 2, 3])
        let fromServer = feed(&tap, serverBytes, fromClient: false)
        XCTAssertEqual(fromServer.map(\.opcode), [.text, .ping, .text, .binary])
        XCTAssertEqual(fromServer[0].payload, Array(text.utf8))
        XCTAssertEqual(fromServer[2].payload, Array(text.utf8))
        XCTAssertEqual(fromServer[3].payload, [1, 2, 3])
        XCTAssertFalse(fromServer[3].compressed)
        XCTAssertEqual(fromServer.map(\.wireBytes).reduce(0, +), UInt64(serverBytes.count))
        XCTAssertNil(tap.clientFailure)
        XCTAssertNil(tap.serverFailure)
    }

    func testMessageEndingInAFinalBlockStartsAFreshStream() throws {
        var tap = WebSocketTap(deflate: PerMessageDeflateParameters())
        var bytes: [UInt8] = []
        for text in ["first message", "second message"] {
            // Some peers end each message with BFINAL instead of an empty stored block.
            let whole = try ZlibDeflater.compress(Array(text.utf8), format: .raw(windowBits: 15))
            bytes += client.frame(.text, payload: whole, reservedBits: 0x40)
        }
        let records = feed(&tap, bytes, fromClient: true)
        XCTAssertEqual(records.map { String(decoding: $0.payload, as: UTF8.self) }, ["first message", "second message"])
    }

    func testDecompressionBombIsRecordedUpToTheCapWithoutStoppingEitherDirection() throws {
        var tap = WebSocketTap(deflate: PerMessageDeflateParameters(), maxMessageBytes: 1 << 20)
        let bomb = try ZlibDeflater.compress([UInt8](repeating: 0, count: 4 << 20), format: .raw(windowBits: 15), level: 9)
        XCTAssertLessThan(bomb.count, 10_000)
        let records = feed(&tap, server.frame(.binary, payload: bomb, reservedBits: 0x40), fromClient: false)
        XCTAssertEqual(records.count, 1)
        XCTAssertEqual(records.first?.payload, [UInt8](repeating: 0, count: 1 << 20), "the first 1 MiB, streamed")
        XCTAssertEqual(records.first?.decodingCapped, true)
        XCTAssertEqual(records.first?.capSize, 1 << 20, "the record states the cap it stopped at")
        XCTAssertNil(tap.serverFailure, "the cap is the capture's limit, not a protocol failure")
        // The other direction still decodes.
        let fine = feed(&tap, client.frame(.text, payload: Array("still here".utf8)), fromClient: true)
        XCTAssertEqual(fine.count, 1)
        XCTAssertNil(tap.clientFailure)
    }

    /// A sender's first message inflating to 4 MiB (over the tap's 1 MiB cap), then a ping,
    /// a compressed and an uncompressed text message and a close, from `deflater`'s stream
    /// (reset before each message when `noContextTakeover`).
    private func cappedMessageThenMore(from encoder: WebSocketFrameEncoder, deflater: ZlibDeflater,
                                       noContextTakeover: Bool) throws -> (bytes: [UInt8], laterCompressed: [UInt8]) {
        var large: [UInt8] = []
        try deflater.compress([UInt8](repeating: 0, count: 4 << 20), flush: .sync, into: &large)
        var bytes = encoder.frame(.binary, payload: Array(large.dropLast(4)), reservedBits: 0x40)
        bytes += encoder.frame(.ping, payload: Array("still there?".utf8))
        if noContextTakeover { deflater.reset() }
        // With context takeover this refers back to the zeros the tap never inflated.
        let laterCompressed = try deflated(String(repeating: "after the cap ", count: 20), with: deflater)
        bytes += encoder.frame(.text, payload: laterCompressed, reservedBits: 0x40)
        bytes += encoder.frame(.text, payload: Array("plain".utf8))
        bytes += encoder.closeFrame(WebSocketClosePayload(code: 1000, reason: "bye"))
        return (bytes, laterCompressed)
    }

    func testAfterTheCapWithContextTakeoverFramesAreStillRecordedAndCompressedMessagesMarkedUndecoded() throws {
        var tap = WebSocketTap(deflate: PerMessageDeflateParameters(), maxMessageBytes: 1 << 20)
        let sent = try cappedMessageThenMore(from: client, deflater: try ZlibDeflater(format: .raw(windowBits: 15)),
                                             noContextTakeover: false)
        let records = feed(&tap, sent.bytes, fromClient: true)
        XCTAssertEqual(records.map(\.opcode), [.binary, .ping, .text, .text, .close])
        XCTAssertTrue(records[0].decodingCapped)
        XCTAssertEqual(records[0].size, 1 << 20)
        XCTAssertEqual(records[1].payload, Array("still there?".utf8))
        XCTAssertNil(records[1].undecodedCompressedSize)
        // The compressed message: its compressed size, no payload, not capped.
        XCTAssertEqual(records[2].undecodedCompressedSize, UInt64(sent.laterCompressed.count))
        XCTAssertEqual(records[2].size, UInt64(sent.laterCompressed.count))
        XCTAssertEqual(records[2].payload, [])
        XCTAssertTrue(records[2].compressed)
        XCTAssertFalse(records[2].decodingCapped)
        // An uncompressed message needs no window.
        XCTAssertEqual(records[3].payload, Array("plain".utf8))
        XCTAssertNil(records[3].undecodedCompressedSize)
        XCTAssertEqual(records[4].payload, [0x03, 0xE8] + Array("bye".utf8))
        XCTAssertEqual(records.map(\.wireBytes).reduce(0, +), UInt64(sent.bytes.count))
        XCTAssertEqual(tap.closeHandshake.clientClose, WebSocketClosePayload(code: 1000, reason: "bye"))
        XCTAssertEqual(tap.closeHandshake.awaitingAnswerFrom, .server)
        XCTAssertNil(tap.clientFailure)

        // The server answers: the handshake completes as on the wire.
        let answer = feed(&tap, server.closeFrame(WebSocketClosePayload(code: 1000, reason: "")), fromClient: false)
        XCTAssertEqual(answer.map(\.opcode), [.close])
        XCTAssertTrue(tap.closeHandshake.isComplete)
    }

    func testAfterTheCapWithoutContextTakeoverTheNextCompressedMessageIsDecoded() throws {
        // server_no_context_takeover: each server message is a fresh DEFLATE stream.
        var tap = WebSocketTap(deflate: PerMessageDeflateParameters(serverNoContextTakeover: true), maxMessageBytes: 1 << 20)
        let sent = try cappedMessageThenMore(from: server, deflater: try ZlibDeflater(format: .raw(windowBits: 15)),
                                             noContextTakeover: true)
        let records = feed(&tap, sent.bytes, fromClient: false)
        XCTAssertEqual(records.map(\.opcode), [.binary, .ping, .text, .text, .close])
        XCTAssertTrue(records[0].decodingCapped)
        XCTAssertEqual(records[2].payload, Array(String(repeating: "after the cap ", count: 20).utf8))
        XCTAssertNil(records[2].undecodedCompressedSize)
        XCTAssertFalse(records[2].decodingCapped)
        XCTAssertEqual(records[3].payload, Array("plain".utf8))
        XCTAssertEqual(tap.closeHandshake.serverClose, WebSocketClosePayload(code: 1000, reason: "bye"))
        XCTAssertNil(tap.serverFailure)
    }

    func testAnUncompressedMessageOverTheCapOnTheWireIsRecordedCutAndLaterFramesStillRecorded() {
        var tap = WebSocketTap(deflate: nil, maxMessageBytes: 1000)
        let payload = (0..<1500).map { UInt8($0 & 0xFF) }
        var bytes = client.frame(.binary, payload: payload)
        bytes += client.frame(.text, payload: Array("after".utf8))
        bytes += client.closeFrame(WebSocketClosePayload(code: 1000, reason: "done"))
        let records = feed(&tap, bytes, fromClient: true)
        XCTAssertEqual(records.map(\.opcode), [.binary, .text, .close])
        guard records.count == 3 else { return }
        XCTAssertEqual(records[0].payload, Array(payload.prefix(1000)), "the first 1000 bytes")
        XCTAssertTrue(records[0].decodingCapped)
        XCTAssertEqual(records[0].capSize, 1000)
        XCTAssertEqual(records[0].wholePayloadSize, 1500)
        XCTAssertEqual(records[0].size, 1500, "the real size: known exactly from the frame")
        XCTAssertEqual(records[0].wireBytes, UInt64(client.frame(.binary, payload: payload).count))
        XCTAssertEqual(records[1].payload, Array("after".utf8))
        XCTAssertFalse(records[1].decodingCapped)
        XCTAssertNil(records[1].capSize)
        XCTAssertEqual(tap.closeHandshake.clientClose, WebSocketClosePayload(code: 1000, reason: "done"))
        XCTAssertNil(tap.clientFailure, "the cap is the capture's limit, not a protocol failure")
    }

    func testACompressedMessageOverTheCapOnTheWireIsInflatedAsFarAsKeptAndCountsAsACut() throws {
        var tap = WebSocketTap(deflate: PerMessageDeflateParameters(), maxMessageBytes: 4096)
        let deflater = try ZlibDeflater(format: .raw(windowBits: 15))
        // Bytes that do not compress: the compressed payload itself is over the cap.
        var state: UInt32 = 1
        let noise = (0..<20_000).map { _ -> UInt8 in
            state = state &* 1_664_525 &+ 1_013_904_223
            return UInt8(state >> 24)
        }
        var large: [UInt8] = []
        try deflater.compress(noise, flush: .sync, into: &large)
        large.removeLast(4)
        XCTAssertGreaterThan(large.count, 4096)
        var bytes = server.frame(.binary, payload: large, reservedBits: 0x40)
        bytes += server.frame(.text, payload: try deflated("later", with: deflater), reservedBits: 0x40)
        bytes += server.closeFrame(WebSocketClosePayload(code: 1000, reason: ""))
        let records = feed(&tap, bytes, fromClient: false)
        XCTAssertEqual(records.map(\.opcode), [.binary, .text, .close])
        guard records.count == 3 else { return }
        XCTAssertTrue(records[0].decodingCapped)
        XCTAssertEqual(records[0].capSize, 4096, "cut at the cap on the wire, whatever its kept bytes inflated to")
        XCTAssertFalse(records[0].payload.isEmpty)
        XCTAssertEqual(records[0].payload, Array(noise.prefix(records[0].payload.count)), "what the kept bytes inflate to")
        XCTAssertLessThanOrEqual(records[0].payload.count, 4096)
        // Context takeover: the window was lost with the cut.
        XCTAssertNotNil(records[1].undecodedCompressedSize)
        XCTAssertNotNil(tap.closeHandshake.serverClose)
        XCTAssertNil(tap.serverFailure)
    }

    /// A message that inflates to 4 MiB is never held: it comes out in pieces of about one
    /// step, at most `inflationBudget` per call, and the messages after it wait their turn.
    func testALargeCompressedMessageIsStreamedInBoundedTurns() throws {
        var tap = WebSocketTap(deflate: PerMessageDeflateParameters())
        let size = 4 << 20
        let large = try ZlibDeflater.compress([UInt8](repeating: 7, count: size), format: .raw(windowBits: 15))
        let bytes = client.frame(.binary, payload: large, reservedBits: 0x40) + client.frame(.text, payload: Array("next".utf8))
        var collector = Collector()
        var turns = 1
        var done = tap.receive(bytes[...], fromClient: true, inflationBudget: 1 << 20) { collector.take($0) }
        XCTAssertFalse(done)
        XCTAssertTrue(tap.isBehind)
        XCTAssertEqual(collector.records, [], "nothing completes in the first turn")
        XCTAssertLessThanOrEqual(collector.pieces.count, (1 << 20) + WebSocketTap.inflationStep + WebSocketTap.heldPayloadLimit)
        while !done {
            done = tap.decode(inflationBudget: 1 << 20) { collector.take($0) }
            turns += 1
        }
        XCTAssertGreaterThanOrEqual(turns, 4)
        XCTAssertFalse(tap.isBehind)
        XCTAssertEqual(collector.records.map(\.opcode), [.binary, .text])
        XCTAssertEqual(collector.records[0].payload, [UInt8](repeating: 7, count: size))
        XCTAssertEqual(collector.records[0].decodingCapped, false)
        XCTAssertEqual(collector.records[1].payload, Array("next".utf8))
        XCTAssertLessThanOrEqual(collector.largestPiece, WebSocketTap.heldPayloadLimit + 2 * WebSocketTap.inflationStep)
        XCTAssertNil(tap.clientFailure)
    }

    /// The server's close, relayed while the client's large compressed message is still
    /// being inflated for the capture, is recorded after that message, as on the wire; and
    /// what either side sends meanwhile waits in the order it came.
    func testBytesReceivedWhileAMessageIsInflatingAreDecodedAfterItInArrivalOrder() throws {
        var tap = WebSocketTap(deflate: PerMessageDeflateParameters())
        let large = try ZlibDeflater.compress([UInt8](repeating: 1, count: 4 << 20), format: .raw(windowBits: 15))
        var collector = Collector()
        var done = tap.receive(client.frame(.binary, payload: large, reservedBits: 0x40)[...], fromClient: true,
                               inflationBudget: 1 << 20) { collector.take($0) }
        XCTAssertFalse(done)
        done = tap.receive(server.frame(.text, payload: Array("answer".utf8))[...], fromClient: false,
                           inflationBudget: 1 << 20) { collector.take($0) }
        XCTAssertFalse(done, "the server's bytes wait behind the client's message")
        _ = tap.receive(client.frame(.close, payload: [0x03, 0xe8])[...], fromClient: true) { collector.take($0) }
        _ = tap.receive(server.frame(.close, payload: [0x03, 0xe8])[...], fromClient: false) { collector.take($0) }
        XCTAssertEqual(collector.records, [], "nothing is recorded ahead of the message being inflated")
        while !done { done = tap.decode(inflationBudget: 1 << 20) { collector.take($0) } }
        XCTAssertFalse(tap.isBehind)
        XCTAssertEqual(collector.records.map(\.fromClient), [true, false, true, false])
        XCTAssertEqual(collector.records.map(\.opcode), [.binary, .text, .close, .close])
        XCTAssertEqual(collector.records[0].payload.count, 4 << 20)
        XCTAssertTrue(tap.closeHandshake.isComplete)
    }

    /// A message inflating to exactly two steps: the second step streams it all, the
    /// third inflates nothing and ends the message. That end is no payload piece.
    func testAStreamedMessageWhoseLastStepInflatesNothingRecordsNoEmptyPiece() throws {
        var tap = WebSocketTap(deflate: PerMessageDeflateParameters())
        let size = 2 * WebSocketTap.inflationStep
        XCTAssertGreaterThan(size, WebSocketTap.heldPayloadLimit, "the message must be streamed")
        let payload = [UInt8](repeating: 3, count: size)
        let compressed = try ZlibDeflater.compress(payload, format: .raw(windowBits: 15))
        var collector = Collector()
        let done = tap.receive(client.frame(.binary, payload: compressed, reservedBits: 0x40)[...], fromClient: true) {
            collector.take($0)
        }
        XCTAssertTrue(done, "an unlimited budget finishes the message in one turn")
        XCTAssertEqual(collector.emptyPieces, 0, "an empty payload piece was emitted")
        XCTAssertEqual(collector.records.count, 1)
        XCTAssertEqual(collector.records.first?.payload, payload)
        XCTAssertNil(tap.clientFailure)
    }

    func testInvalidUTF8AfterInflationAndProtocolErrors() throws {
        var tap = WebSocketTap(deflate: PerMessageDeflateParameters())
        let invalid = try ZlibDeflater.compress([0x61, 0xff], format: .raw(windowBits: 15))
        _ = feed(&tap, client.frame(.text, payload: invalid, reservedBits: 0x40), fromClient: true)
        XCTAssertTrue(tap.clientFailure?.contains("1007") ?? false, tap.clientFailure ?? "no failure")

        var plain = WebSocketTap(deflate: nil)
        _ = feed(&plain, server.frame(.text, payload: Array("x".utf8), reservedBits: 0x40), fromClient: false)
        XCTAssertTrue(plain.serverFailure?.contains("1002") ?? false, plain.serverFailure ?? "no failure")
    }

    func testCloseHandshakeAndMidMessageState() {
        var tap = WebSocketTap(deflate: nil)
        let partial = client.frame(.binary, payload: [UInt8](repeating: 1, count: 100))
        _ = feed(&tap, Array(partial.prefix(50)), fromClient: true)
        XCTAssertTrue(tap.isInsideMessage(fromClient: true))
        XCTAssertFalse(tap.isInsideMessage(fromClient: false))
        _ = feed(&tap, Array(partial.dropFirst(50)), fromClient: true)
        XCTAssertFalse(tap.isInsideMessage(fromClient: true))

        _ = feed(&tap, client.closeFrame(WebSocketClosePayload(code: 1000, reason: "bye")), fromClient: true)
        XCTAssertEqual(tap.closeHandshake.awaitingAnswerFrom, .server)
        let answer = feed(&tap, server.closeFrame(WebSocketClosePayload(code: nil)), fromClient: false)
        XCTAssertEqual(answer.first?.opcode, .close)
        XCTAssertEqual(answer.first?.payload, [])
        XCTAssertTrue(tap.closeHandshake.isComplete)
    }

    func testMalformedExtensionsHeaderDisablesDecodingButNotRelaying() {
        let tap = WebSocketTap(handshakeResponse: HTTPResponseHead(status: 101, headers: HTTPHeaders([
            ("Upgrade", "websocket"), ("Sec-WebSocket-Extensions", "permessage-deflate; server_max_window_bits=99")])))
        XCTAssertNotNil(tap.clientFailure)
        XCTAssertNotNil(tap.serverFailure)
    }
}
