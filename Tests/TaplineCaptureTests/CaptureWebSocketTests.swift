import Foundation
import XCTest
import TaplineFlow
import TaplineWire
@testable import TaplineCapture

/// `wsMessage` lines: written by the capture writer, read back by the reader, with
/// payloads inline (text or base64) or spilled to a body segment.
final class CaptureWebSocketTests: XCTestCase {
    private var root = ""

    override func setUpWithError() throws {
        root = try CaptureTestSupport.makeTemporaryDirectory()
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: root)
    }

    private func record(_ messages: [WebSocketMessageRecord], options: CaptureOptions = CaptureOptions()) throws -> CapturedSession {
        let writer = try CaptureWriter(root: root, options: options)
        let t = CaptureTestSupport.t
        let flow = FlowID(1), connection = ConnectionID(1)
        let request = HTTPRequestHead(method: "GET", target: "/chat", headers: HTTPHeaders([
            ("Host", "example.com"), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13")]))
        let response = HTTPResponseHead(status: 101, reason: "Switching Protocols", headers: HTTPHeaders([
            ("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")]))
        writer.record(.connectionOpened(connection: connection, client: "127.0.0.1:5000", listener: "127.0.0.1:8080", time: t(0)))
        writer.record(.flowStarted(flow: flow, connection: connection, kind: .http, scheme: "http",
                                   authority: "example.com:80", time: t(1)))
        writer.record(.requestHead(flow: flow, head: request, time: t(2)))
        writer.record(.requestEnd(flow: flow, trailers: nil, bodyBytes: 0, time: t(3)))
        writer.record(.responseHead(flow: flow, head: response, time: t(10)))
        for (index, message) in messages.enumerated() {
            writer.record(.webSocketMessage(flow: flow, message: message, time: t(100 + Int64(index))))
        }
        writer.record(.flowEnded(flow: flow, timings: FlowTimings(), bytesFromClient: 1, bytesFromServer: 2, error: nil,
                                 time: t(10_000)))
        writer.close()
        return try CapturedSession.open(directory: writer.directory)
    }

    func testMessagesReadBackWithEveryPayloadForm() throws {
        let big = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let messages = [
            WebSocketMessageRecord(fromClient: true, opcode: .text, payload: Array("héllo \"quoted\"\n\u{1}".utf8),
                                   wireBytes: 20, compressed: true),
            WebSocketMessageRecord(fromClient: false, opcode: .binary, payload: [0x00, 0xff, 0xfe], wireBytes: 5, compressed: false),
            WebSocketMessageRecord(fromClient: false, opcode: .binary, payload: big, wireBytes: 100_010, compressed: false),
            WebSocketMessageRecord(fromClient: true, opcode: .ping, payload: [], wireBytes: 6, compressed: false),
            WebSocketMessageRecord(fromClient: true, opcode: .close, payload: [0x03, 0xe8] + Array("done".utf8),
                                   wireBytes: 12, compressed: false),
            WebSocketMessageRecord(fromClient: false, opcode: .close, payload: [], wireBytes: 2, compressed: false),
        ]
        let session = try record(messages)
        XCTAssertEqual(session.warnings, [])
        let flow = try XCTUnwrap(session.flow(1))
        XCTAssertEqual(flow.kind, .websocket, "a 101 to a WebSocket upgrade makes the flow a websocket")
        XCTAssertEqual(flow.webSocketMessages.count, messages.count)
        for (captured, sent) in zip(flow.webSocketMessages, messages) {
            XCTAssertEqual(captured.fromClient, sent.fromClient)
            XCTAssertEqual(captured.opcode, sent.opcode.rawValue)
            XCTAssertEqual(captured.wireBytes, sent.wireBytes)
            XCTAssertEqual(captured.size, UInt64(sent.payload.count))
            XCTAssertEqual(captured.compressed, sent.compressed)
            XCTAssertEqual(try captured.payload(sessionDirectory: session.directory), sent.payload)
            XCTAssertFalse(captured.truncated)
        }
        XCTAssertNotNil(flow.webSocketMessages[0].inlinePayload, "small text inline")
        XCTAssertEqual(flow.webSocketMessages[2].extents.count, 1, "over 64 KiB spilled to the segment")
        XCTAssertEqual(flow.webSocketMessages[4].closeCode, 1000)
        XCTAssertEqual(flow.webSocketMessages[4].closeReason, "done")
        XCTAssertNil(flow.webSocketMessages[5].closeCode, "a close without a status code")

        let lines = try CaptureTestSupport.lines(of: session.directory + "/events.jsonl").filter { $0.contains("wsMessage") }
        XCTAssertEqual(lines.count, messages.count)
        XCTAssertTrue(lines[0].contains(#""dir":"client","opcode":"text","wireBytes":20,"size":"#), lines[0])
        XCTAssertTrue(lines[1].contains(#""base64":"AP/+""#), lines[1])
        XCTAssertTrue(lines[2].contains(#""seg":1,"off":0,"len":100000"#), lines[2])
        XCTAssertTrue(lines[4].contains(#""code":1000,"reason":"done""#), lines[4])
    }

    /// A compressed message the proxy could not inflate (its side's window was lost at the
    /// cap): `size` is its compressed size, nothing is stored, `truncated` and `undecoded`.
    func testAnUndecodedMessageKeepsItsCompressedSizeAndSaysUndecoded() throws {
        let session = try record([
            WebSocketMessageRecord(fromClient: true, opcode: .text, payload: [], wireBytes: 21, compressed: true,
                                   undecodedCompressedSize: 15),
            WebSocketMessageRecord(fromClient: true, opcode: .text, payload: Array("plain".utf8), wireBytes: 11,
                                   compressed: false),
        ])
        XCTAssertEqual(session.warnings, [])
        let messages = try XCTUnwrap(session.flow(1)).webSocketMessages
        XCTAssertEqual(messages.map(\.undecoded), [true, false])
        XCTAssertEqual(messages.map(\.truncated), [true, false])
        XCTAssertEqual(messages.map(\.size), [15, 5])
        XCTAssertEqual(messages.map(\.storedBytes), [0, 5])
        XCTAssertEqual(messages.map(\.decodingCapped), [false, false])
        let lines = try CaptureTestSupport.lines(of: session.directory + "/events.jsonl").filter { $0.contains("wsMessage") }
        XCTAssertTrue(lines[0].contains(#""size":15,"compressed":true,"text":"","truncated":true,"undecoded":true"#), lines[0])
        XCTAssertFalse(lines[1].contains("undecoded"), lines[1])
    }

    func testMaxBodyCaptureTruncatesEachPayload() throws {
        let session = try record([
            WebSocketMessageRecord(fromClient: true, opcode: .text, payload: Array(repeating: 0x61, count: 100),
                                   wireBytes: 106, compressed: false),
            WebSocketMessageRecord(fromClient: false, opcode: .binary, payload: [1, 2], wireBytes: 4, compressed: false),
        ], options: CaptureOptions(maxBodyBytes: 10))
        let messages = try XCTUnwrap(session.flow(1)).webSocketMessages
        XCTAssertEqual(messages[0].size, 100)
        XCTAssertEqual(messages[0].storedBytes, 10)
        XCTAssertTrue(messages[0].truncated)
        XCTAssertEqual(try messages[0].payload(sessionDirectory: session.directory), Array(repeating: 0x61, count: 10))
        XCTAssertFalse(messages[1].truncated)
    }

    func testDamagedLinesAreSkippedWithAWarning() throws {
        let session = try record([WebSocketMessageRecord(fromClient: true, opcode: .text, payload: Array("ok".utf8),
                                                         wireBytes: 8, compressed: false)])
        let path = session.directory + "/events.jsonl"
        var lines = try CaptureTestSupport.lines(of: path)
        let end = lines.firstIndex { $0.contains("flowEnded") } ?? lines.count
        lines.insert(#"{"t":1790000000000500,"type":"wsMessage","flow":1,"dir":"sideways","opcode":"text","wireBytes":1,"size":1,"text":"x"}"#, at: end)
        lines.insert(#"{"t":1790000000000501,"type":"wsMessage","flow":1,"dir":"client","opcode":"binary","wireBytes":1,"size":1,"base64":"!!"}"#, at: end)
        try CaptureTestSupport.writeLines(lines, to: path)
        let reread = try CapturedSession.open(directory: session.directory)
        XCTAssertEqual(reread.flow(1)?.webSocketMessages.count, 1)
        XCTAssertEqual(reread.warnings.filter { $0.contains("wsMessage") }.count, 2, "\(reread.warnings)")
    }
}
