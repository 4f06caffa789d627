import Foundation
import XCTest
import TaplineFlow
import TaplineWire
@testable import TaplineCapture
@testable import TaplineCLI

/// The cap a WebSocket message was cut at is stated by the capture (`cap` on its
/// `wsMessage` line) and `tapline show` prints that, not a guess from the message's size.
final class WebSocketCapRecordTests: XCTestCase {
    private let t = CaptureTestSupport.t

    /// Two capped messages from a proxy run with a 1000-byte cap: an uncompressed one of
    /// 5000 bytes (its first 1000 stored) and a compressed one whose compressed payload
    /// was over the cap on the wire, so inflating its first 1000 bytes gave 2345 (not
    /// the cap). Both are said to be cut at 1000 bytes; the line records it.
    func testTheRecordedCapIsReadBackAndShown() throws {
        let root = try CaptureTestSupport.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let writer = try CaptureWriter(root: root)
        let c = ConnectionID(1), f = FlowID(1)
        writer.record(.connectionOpened(connection: c, client: "127.0.0.1:1", listener: "127.0.0.1:2", time: t(0)))
        writer.record(.flowStarted(flow: f, connection: c, kind: .websocket, scheme: "http", authority: "a:80", time: t(1)))
        writer.record(.requestHead(flow: f, head: HTTPRequestHead(method: "GET", target: "/ws"), time: t(2)))
        writer.record(.webSocketMessage(flow: f, message: WebSocketMessageRecord(
            fromClient: false, opcode: .binary, payload: [UInt8](repeating: 1, count: 1000), wireBytes: 5010,
            compressed: false, decodingCapped: true, wholePayloadSize: 5000, capSize: 1000), time: t(3)))
        writer.record(.webSocketMessage(flow: f, message: WebSocketMessageRecord(
            fromClient: true, opcode: .binary, payload: [UInt8](repeating: 2, count: 2345), wireBytes: 1500,
            compressed: true, decodingCapped: true, capSize: 1000), time: t(4)))
        writer.record(.flowEnded(flow: f, timings: FlowTimings(), bytesFromClient: 1500, bytesFromServer: 5010,
                                 error: nil, time: t(5)))
        writer.close()

        let events = try String(contentsOfFile: writer.directory + "/events.jsonl", encoding: .utf8)
        let lines = events.split(separator: "\n").filter { $0.contains("\"wsMessage\"") }
        XCTAssertEqual(lines.count, 2)
        for line in lines { XCTAssertTrue(line.contains("\"capped\":true,\"cap\":1000"), String(line.suffix(60))) }

        let session = try CapturedSession.open(directory: writer.directory)
        let flow = try XCTUnwrap(session.flow(1))
        XCTAssertEqual(flow.webSocketMessages.map(\.capSize), [1000, 1000])
        let notes = ShowWebSocketTimeline.cappedNotes(flow)
        XCTAssertEqual(notes.count, 2)
        for note in notes { XCTAssertTrue(note.contains("was cut at 1000 bytes for the capture only"), note) }
        let timeline = ShowWebSocketTimeline.lines(flow, sessionDirectory: session.directory,
                                                  style: TerminalStyle(enabled: false))
        XCTAssertTrue(timeline[1].hasSuffix("(message 1 cut at 1000 bytes for the capture only; relayed whole)"), timeline[1])
        XCTAssertTrue(timeline[2].hasSuffix("(message 2 cut at 1000 bytes for the capture only; relayed whole)"), timeline[2])
    }

    /// A capture written before the cap was recorded: no `cap`, today's wording.
    func testACaptureWithoutTheCapKeepsTheInferredWording() {
        var flow = CapturedFlow(id: FlowID(1), connection: ConnectionID(1), kind: .websocket, scheme: "http",
                                authority: "a:80", started: t(0), sessionDirectory: "/nonexistent")
        flow.webSocketMessages = [
            CapturedWebSocketMessage(time: t(1), fromClient: false, opcode: "binary", wireBytes: 70 << 20, size: 70 << 20,
                                     compressed: false, inlinePayload: [1], truncated: true, decodingCapped: true),
        ]
        XCTAssertEqual(ShowWebSocketTimeline.cappedNotes(flow).first?.contains("was cut at 64 MiB for the capture only"), true)
    }
}
