import Foundation
import Glibc
import TaplineCapture
@testable import TaplineExport
import TaplineFlow
import TaplineWire
import XCTest

/// WebSocket messages the capture could not hold whole are exported with a marker
/// (`{"truncated": true, "size": N, "reason": ...}`: HAR `_webSocketMessages[i]._tapline`,
/// Postman `_tapline.messages[i]`), and HAR import reads it back so import -> export keeps it.
final class WebSocketMessageExportTests: XCTestCase {
    private let base: Int64 = 1_790_000_000_000_000

    /// One WebSocket flow with `messages`, through the real `CaptureWriter`.
    private func session(root: String, _ messages: [WebSocketMessageRecord]) throws -> CapturedSession {
        let writer = try CaptureWriter(root: root)
        let flow = FlowID(1)
        func at(_ offset: Int64) -> Timestamp { Timestamp(microseconds: base + offset) }
        writer.record(.connectionOpened(connection: ConnectionID(1), client: "127.0.0.1:50000", listener: "127.0.0.1:8080",
                                        time: at(0)))
        writer.record(.flowStarted(flow: flow, connection: ConnectionID(1), kind: .http, scheme: "http",
                                   authority: "api.example.com:80", time: at(0)))
        writer.record(.requestHead(flow: flow, head: HTTPRequestHead(method: "GET", target: "/chat", headers: HTTPHeaders([
            ("Host", "api.example.com"), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13"),
        ])), time: at(10)))
        writer.record(.requestEnd(flow: flow, trailers: nil, bodyBytes: 0, time: at(20)))
        writer.record(.upstreamConnected(flow: flow, server: "93.184.216.34:80", tls: nil, reused: false, time: at(30)))
        writer.record(.responseHead(flow: flow, head: HTTPResponseHead(status: 101, reason: "Switching Protocols", headers: HTTPHeaders([
            ("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
        ])), time: at(40)))
        for (index, message) in messages.enumerated() {
            writer.record(.webSocketMessage(flow: flow, message: message, time: at(100 + Int64(index) * 10)))
        }
        var timings = FlowTimings()
        timings.requestStart = at(10)
        timings.done = at(1000)
        writer.record(.flowEnded(flow: flow, timings: timings, bytesFromClient: 100, bytesFromServer: 100, error: nil,
                                 time: at(1000)))
        writer.close()
        return try CapturedSession.open(directory: writer.directory)
    }

    private let recorded: [WebSocketMessageRecord] = [
        WebSocketMessageRecord(fromClient: true, opcode: .text, payload: Array("hello".utf8), wireBytes: 11, compressed: false),
        // Over the cap on the wire, uncompressed: the first bytes, its real size.
        WebSocketMessageRecord(fromClient: true, opcode: .binary, payload: [UInt8](repeating: 7, count: 100), wireBytes: 164,
                               compressed: false, decodingCapped: true, wholePayloadSize: 150),
        // Inflating stopped at the cap: size counts what was decoded.
        WebSocketMessageRecord(fromClient: false, opcode: .text, payload: Array("abc".utf8), wireBytes: 9, compressed: true,
                               decodingCapped: true),
        // Could not be inflated after the cut: its compressed size, nothing stored.
        WebSocketMessageRecord(fromClient: false, opcode: .text, payload: [], wireBytes: 17, compressed: true,
                               undecodedCompressedSize: 15),
        // Stored cut (as after --max-body-capture 5).
        WebSocketMessageRecord(fromClient: true, opcode: .text, payload: Array("12345".utf8), wireBytes: 16, compressed: false,
                               wholePayloadSize: 10),
        WebSocketMessageRecord(fromClient: false, opcode: .text, payload: Array("bye".utf8), wireBytes: 5, compressed: false),
    ]

    private let expectedMarkers: [String?] = [
        nil, #"{"truncated":true,"size":150,"reason":"capped"}"#, #"{"truncated":true,"size":3,"reason":"capped"}"#,
        #"{"truncated":true,"size":15,"reason":"undecoded"}"#, #"{"truncated":true,"size":10,"reason":"capture-limit"}"#, nil,
    ]

    private func exportHAR(_ session: CapturedSession, to path: String) throws -> [JSONValue] {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        defer { close(descriptor) }
        try HARExporter(creatorVersion: "test").write(session.flows, comment: "c", session: session, to: descriptor, path: path)
        let log = try JSONParser.parse(String(contentsOfFile: path, encoding: .utf8))["log"]
        return log?["entries"]?.arrayValue?.first?["_webSocketMessages"]?.arrayValue ?? []
    }

    private func markers(_ objects: [JSONValue?]) -> [String?] {
        objects.map { $0.map { JSONWriter.text($0, indent: nil) } }
    }

    func testHARMarksMessagesTheCaptureCouldNotHoldAndImportKeepsTheMarker() throws {
        let root = ExportTestSupport.temporaryDirectory()
        let captured = try session(root: root, recorded)
        XCTAssertEqual(captured.warnings, [])
        let messages = try exportHAR(captured, to: root + "/out.har")
        XCTAssertEqual(messages.count, recorded.count)
        XCTAssertEqual(markers(messages.map { $0["_tapline"] }), expectedMarkers)
        XCTAssertEqual(messages[1]["data"], .string(Data(repeating: 7, count: 100).base64EncodedString()), "the part stored")
        XCTAssertEqual(messages[3]["data"], .string(""))
        XCTAssertEqual(messages[4]["data"], .string("12345"))

        // import -> export: the same messages, markers included.
        let imported = try HARImporter(path: root + "/out.har").run(root: root, taplineVersion: "test")
        let reopened = try CapturedSession.open(directory: imported.directory)
        XCTAssertEqual(reopened.warnings, [])
        let records = try XCTUnwrap(reopened.flows.first).webSocketMessages
        XCTAssertEqual(records.map(\.truncated), [false, true, true, true, true, false])
        XCTAssertEqual(records.map(\.decodingCapped), [false, true, true, false, false, false])
        XCTAssertEqual(records.map(\.undecoded), [false, false, false, true, false, false])
        XCTAssertEqual(records.map(\.size), [5, 150, 3, 15, 10, 3])
        let again = try exportHAR(reopened, to: root + "/again.har")
        XCTAssertEqual(markers(again.map { $0["_tapline"] }), expectedMarkers)
        XCTAssertEqual(again.map { $0["data"] }, messages.map { $0["data"] })
    }

    /// Close, ping and pong payloads are bytes (a close code, then a reason): exported as
    /// base64 like binary data, and read back as the same bytes.
    func testControlFramePayloadsSurviveImportAndExport() throws {
        let root = ExportTestSupport.temporaryDirectory()
        let close: [UInt8] = [0x03, 0xE8] + Array("done".utf8)  // 1000 "done"
        let controls = [
            WebSocketMessageRecord(fromClient: true, opcode: .ping, payload: [0, 1, 2], wireBytes: 9, compressed: false),
            WebSocketMessageRecord(fromClient: false, opcode: .pong, payload: [0, 1, 2], wireBytes: 5, compressed: false),
            WebSocketMessageRecord(fromClient: true, opcode: .close, payload: close, wireBytes: 12, compressed: false),
        ]
        let messages = try exportHAR(try session(root: root, controls), to: root + "/out.har")
        XCTAssertEqual(messages.map { $0["data"] }, [.string("AAEC"), .string("AAEC"), .string(Data(close).base64EncodedString())])
        let imported = try HARImporter(path: root + "/out.har").run(root: root, taplineVersion: "test")
        let records = try XCTUnwrap(try CapturedSession.open(directory: imported.directory).flows.first).webSocketMessages
        XCTAssertEqual(records.map(\.opcode), ["ping", "pong", "close"])
        XCTAssertEqual(try records.map { try $0.payload(sessionDirectory: imported.directory) }, [[0, 1, 2], [0, 1, 2], close])
        XCTAssertEqual(records.last?.closeCode, 1000)
        XCTAssertEqual(records.last?.closeReason, "done")
    }

    func testPostmanMarksMessagesTheCaptureCouldNotHold() throws {
        let root = ExportTestSupport.temporaryDirectory()
        let captured = try session(root: root, recorded)
        let export = try PostmanExporter(options: PostmanExportOptions()).export([(captured.id, captured.flows)])
        let collection = try JSONParser.parse(export.text)
        func extensionIn(_ items: [JSONValue]) -> JSONValue? {
            for item in items {
                if let found = item["_tapline"] ?? extensionIn(item["item"]?.arrayValue ?? []) { return found }
            }
            return nil
        }
        let found = try XCTUnwrap(extensionIn(collection["item"]?.arrayValue ?? []))
        let messages = try XCTUnwrap(found["messages"]?.arrayValue)
        let marks = messages.map { message -> String? in
            guard let truncated = message["truncated"] else { return nil }
            return JSONWriter.text(.object([JSONMember("truncated", truncated), JSONMember("size", message["size"] ?? .null),
                                            JSONMember("reason", message["reason"] ?? .null)]), indent: nil)
        }
        XCTAssertEqual(marks, expectedMarkers)
        XCTAssertEqual(messages[4]["data"], .string("12345"))
        let item = export.text.components(separatedBy: "\n").first { $0.contains("WebSocket endpoint") } ?? ""
        XCTAssertTrue(item.contains("4 of the messages are cut or empty in the capture"), item)
    }

    func testImportRejectsAMarkerWithoutAUsableSize() throws {
        let root = ExportTestSupport.temporaryDirectory()
        let path = root + "/bad.har"
        try #"""
            {"log":{"version":"1.2","creator":{"name":"t","version":"1"},"entries":[{"startedDateTime":"2024-01-01T00:00:00.000Z","time":1,
              "request":{"method":"GET","url":"ws://a/chat","httpVersion":"HTTP/1.1","cookies":[],"headers":[],"queryString":[],"headersSize":-1,"bodySize":0},
              "response":{"status":101,"statusText":"","httpVersion":"HTTP/1.1","cookies":[],"headers":[],"content":{"size":0,"mimeType":""},"redirectURL":"","headersSize":-1,"bodySize":0},
              "cache":{},"timings":{"send":0,"wait":0,"receive":0},"_resourceType":"websocket",
              "_webSocketMessages":[{"type":"send","time":1.5,"opcode":1,"data":"12345","_tapline":{"truncated":true,"size":3,"reason":"capture-limit"}}]}]}}
            """#.write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try HARImporter(path: path).run(root: root, taplineVersion: "test")) { error in
            XCTAssertTrue("\(error)".contains("log.entries[0]._webSocketMessages[0]._tapline.size: 3 is smaller than the message's data (5 bytes)"),
                          "\(error)")
        }
    }
}
