import Foundation
import XCTest
import TaplineFlow
import TaplineWire
@testable import TaplineCapture

/// A large WebSocket message whose payload the proxy streamed (`webSocketPayload`
/// pieces) ahead of its `wsMessage`: stored as it came, listed on the message's line
/// (one extent, or `extents` when other bodies came in between), read back whole.
final class CaptureStreamedWebSocketTests: XCTestCase {
    private var root = ""

    override func setUpWithError() throws {
        root = try CaptureTestSupport.makeTemporaryDirectory()
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: root)
    }

    private let flow = FlowID(1), other = FlowID(2)
    private let a = [UInt8](repeating: 0x61, count: 70_000), b = [UInt8](repeating: 0x62, count: 70_000)

    /// Flow 1 streams a client message of `a` + `b` with a body chunk of flow 2 stored in
    /// between, then a server message of `a` + `b` back to back.
    private func record(options: CaptureOptions = CaptureOptions(), capped: Bool = false) throws -> CapturedSession {
        let writer = try CaptureWriter(root: root, options: options)
        let t = CaptureTestSupport.t
        let connection = ConnectionID(1)
        writer.record(.connectionOpened(connection: connection, client: "127.0.0.1:5000", listener: "127.0.0.1:8080", time: t(0)))
        for id in [flow, other] {
            writer.record(.flowStarted(flow: id, connection: connection, kind: .http, scheme: "http",
                                       authority: "example.com:80", time: t(1)))
            writer.record(.requestHead(flow: id, head: HTTPRequestHead(method: "POST", target: "/",
                                                                       headers: HTTPHeaders([("Host", "example.com")])), time: t(2)))
        }
        let size = UInt64(a.count + b.count)
        writer.record(.webSocketPayload(flow: flow, fromClient: true, bytes: a))
        writer.record(.requestBody(flow: other, bytes: [UInt8](repeating: 0x7a, count: 1000)))
        writer.record(.webSocketPayload(flow: flow, fromClient: true, bytes: b))
        writer.record(.webSocketMessage(flow: flow, message: WebSocketMessageRecord(
            fromClient: true, opcode: .binary, payload: [], wireBytes: 900, compressed: true,
            streamedPayloadSize: size, decodingCapped: capped), time: t(100)))
        writer.record(.webSocketPayload(flow: flow, fromClient: false, bytes: a))
        writer.record(.webSocketPayload(flow: flow, fromClient: false, bytes: b))
        writer.record(.webSocketMessage(flow: flow, message: WebSocketMessageRecord(
            fromClient: false, opcode: .text, payload: [], wireBytes: 800, compressed: true,
            streamedPayloadSize: size), time: t(101)))
        for id in [flow, other] {
            writer.record(.flowEnded(flow: id, timings: FlowTimings(), bytesFromClient: 1, bytesFromServer: 2, error: nil,
                                     time: t(10_000)))
        }
        writer.close()
        return try CapturedSession.open(directory: writer.directory)
    }

    func testStreamedPayloadsAreReadBackWholeFromOneOrSeveralExtents() throws {
        let session = try record()
        XCTAssertEqual(session.warnings, [])
        let messages = try XCTUnwrap(session.flow(1)).webSocketMessages
        XCTAssertEqual(messages.map(\.fromClient), [true, false])
        XCTAssertEqual(messages.map(\.size), [140_000, 140_000])
        XCTAssertEqual(messages.map(\.extents.count), [2, 1], "flow 2's body split the first one")
        XCTAssertEqual(messages.map(\.truncated), [false, false])
        for message in messages {
            XCTAssertEqual(try message.payload(sessionDirectory: session.directory), a + b)
            XCTAssertEqual(message.storedBytes, 140_000)
        }
        XCTAssertEqual(try XCTUnwrap(session.flow(2)).requestBody.capturedBytes, 1000)
        let lines = try CaptureTestSupport.lines(of: session.directory + "/events.jsonl").filter { $0.contains("\"wsMessage\"") }
        XCTAssertTrue(lines[0].contains("\"extents\":[["), lines[0])
        XCTAssertTrue(lines[1].contains("\"seg\":") && !lines[1].contains("extents"), lines[1])
    }

    func testMaxBodyCaptureAndTheDecodingCapMarkAStreamedPayloadTruncated() throws {
        let session = try record(options: CaptureOptions(maxBodyBytes: 100_000), capped: true)
        let messages = try XCTUnwrap(session.flow(1)).webSocketMessages
        XCTAssertEqual(messages.map(\.size), [140_000, 140_000])
        XCTAssertEqual(messages.map(\.storedBytes), [100_000, 100_000])
        XCTAssertEqual(messages.map(\.truncated), [true, true])
        XCTAssertEqual(try messages[1].payload(sessionDirectory: session.directory), Array((a + b).prefix(100_000)))

        try? FileManager.default.removeItem(atPath: root)
        root = try CaptureTestSupport.makeTemporaryDirectory()
        let capped = try record(capped: true)
        XCTAssertEqual(try XCTUnwrap(capped.flow(1)).webSocketMessages.map(\.truncated), [true, false],
                       "decoding stopped at the cap: only the first bytes are known")
        XCTAssertEqual(try XCTUnwrap(capped.flow(1)).webSocketMessages.map(\.decodingCapped), [true, false],
                       "the reader tells the cap from --max-body-capture")
        XCTAssertEqual(messages.map(\.decodingCapped), [true, false])
    }

    func testAnInlineCappedMessageSaysCappedAndAnUncappedOneDoesNot() throws {
        let writer = try CaptureWriter(root: root, options: CaptureOptions())
        let t = CaptureTestSupport.t
        writer.record(.connectionOpened(connection: ConnectionID(1), client: "127.0.0.1:5000", listener: "127.0.0.1:8080", time: t(0)))
        writer.record(.flowStarted(flow: flow, connection: ConnectionID(1), kind: .http, scheme: "http",
                                   authority: "example.com:80", time: t(1)))
        writer.record(.requestHead(flow: flow, head: HTTPRequestHead(method: "GET", target: "/",
                                                                     headers: HTTPHeaders([("Host", "example.com")])), time: t(2)))
        for capped in [true, false] {
            writer.record(.webSocketMessage(flow: flow, message: WebSocketMessageRecord(
                fromClient: true, opcode: .binary, payload: [1, 2, 3], wireBytes: 9, compressed: true,
                decodingCapped: capped), time: t(100)))
        }
        writer.close()
        let session = try CapturedSession.open(directory: writer.directory)
        let messages = try XCTUnwrap(session.flow(1)).webSocketMessages
        XCTAssertEqual(messages.map(\.decodingCapped), [true, false])
        XCTAssertEqual(messages.map(\.truncated), [true, false])
        let lines = try CaptureTestSupport.lines(of: session.directory + "/events.jsonl").filter { $0.contains("\"wsMessage\"") }
        XCTAssertTrue(lines[0].contains("\"capped\":true"), lines[0])
        XCTAssertFalse(lines[1].contains("capped"), lines[1])
    }
}
