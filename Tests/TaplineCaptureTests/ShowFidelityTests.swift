import Foundation
import XCTest
import TaplineFlow
import TaplineWire
@testable import TaplineCapture
@testable import TaplineCLI

/// What `tapline show` says about flows whose message did not end, encoded
/// bodies, RFC 8441 WebSockets and sessions still being written (issue #21, items 9/9a).
final class ShowFidelityTests: XCTestCase {
    private var root = ""
    private let plain = TerminalStyle(enabled: false)
    private let t = CaptureTestSupport.t

    override func setUpWithError() throws {
        root = try CaptureTestSupport.makeTemporaryDirectory()
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: root)
    }

    /// A response torn after 93 kB: the reader counts the captured bytes, and the
    /// list marks them as cut; a complete gzip response is marked as encoded.
    func testMessageThatDidNotEndCountsItsCapturedBytesAndIsMarkedCut() throws {
        let writer = try CaptureWriter(root: root)
        let c = ConnectionID(1), torn = FlowID(1), gzipped = FlowID(2)
        writer.record(.connectionOpened(connection: c, client: "127.0.0.1:1", listener: "127.0.0.1:2", time: t(0)))
        writer.record(.flowStarted(flow: torn, connection: c, kind: .http, scheme: "http", authority: "a:80", time: t(1)))
        writer.record(.requestHead(flow: torn, head: HTTPRequestHead(method: "GET", target: "/stream"), time: t(2)))
        writer.record(.requestEnd(flow: torn, trailers: nil, bodyBytes: 0, time: t(3)))
        writer.record(.responseHead(flow: torn, head: HTTPResponseHead(status: 200, reason: "OK"), time: t(4)))
        for _ in 0..<3 { writer.record(.responseBody(flow: torn, bytes: [UInt8](repeating: 7, count: 31_000))) }
        writer.record(.flowEnded(flow: torn, timings: FlowTimings(), bytesFromClient: 20, bytesFromServer: 93_100,
                                 error: FlowError(.upstreamAborted, "closed mid-body"), time: t(5)))
        writer.record(.flowStarted(flow: gzipped, connection: c, kind: .http, scheme: "http", authority: "a:80", time: t(6)))
        writer.record(.requestHead(flow: gzipped, head: HTTPRequestHead(method: "GET", target: "/text"), time: t(7)))
        writer.record(.requestEnd(flow: gzipped, trailers: nil, bodyBytes: 0, time: t(8)))
        writer.record(.responseHead(flow: gzipped, head: HTTPResponseHead(status: 200, reason: "OK", headers: HTTPHeaders([
            ("Content-Encoding", " GZIP "), ("Content-Type", "text/plain")])), time: t(9)))
        writer.record(.responseBody(flow: gzipped, bytes: [UInt8](repeating: 1, count: 19_000)))
        writer.record(.responseEnd(flow: gzipped, trailers: nil, bodyBytes: 19_000, time: t(10)))
        writer.record(.flowEnded(flow: gzipped, timings: FlowTimings(), bytesFromClient: 20, bytesFromServer: 19_100,
                                 error: nil, time: t(11)))
        // Failed before it was sent on: no request end, no body bytes. Nothing was cut.
        let unreachable = FlowID(3)
        writer.record(.flowStarted(flow: unreachable, connection: c, kind: .http, scheme: "http", authority: "b:80", time: t(12)))
        writer.record(.requestHead(flow: unreachable, head: HTTPRequestHead(method: "GET", target: "/"), time: t(13)))
        writer.record(.flowEnded(flow: unreachable, timings: FlowTimings(), bytesFromClient: 20, bytesFromServer: 0,
                                 error: FlowError(.upstreamUnreachable, "cannot resolve b"), time: t(14)))
        writer.close()

        let session = try CapturedSession.open(directory: writer.directory)
        let flow = try XCTUnwrap(session.flow(1))
        XCTAssertFalse(flow.responseBody.isComplete)
        XCTAssertEqual(flow.responseBody.bodyBytes, 93_000, "a body without its end reports what was captured")
        XCTAssertEqual(FlowSummaryText.sizeText(flow, .response), "93 kB cut")
        XCTAssertEqual(FlowSummaryText.sizeText(flow, .request), "0 B", "the request ended")
        let encoded = try XCTUnwrap(session.flow(2))
        XCTAssertEqual(FlowSummaryText.sizeText(encoded, .response), "19 kB gzip")
        let failed = try XCTUnwrap(session.flow(3))
        XCTAssertEqual(FlowSummaryText.sizeText(failed, .request), "0 B", "no bytes, nothing cut")

        let lines = ShowFlowList.lines(session, style: plain)
        XCTAssertTrue(lines[1].contains("93 kB cut"), lines[1])
        XCTAssertTrue(lines[2].contains("19 kB gzip"), lines[2])
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(ShowFlowList.json(session).utf8)) as? [[String: Any]])
        XCTAssertEqual(json[0]["responseBytes"] as? Int, 93_000)
        XCTAssertEqual(json[0]["responsePartial"] as? Bool, true)
        XCTAssertEqual(json[0]["requestPartial"] as? Bool, false)
        XCTAssertEqual(json[1]["responseEncoding"] as? String, "gzip")
        XCTAssertEqual(json[1]["responsePartial"] as? Bool, false)
    }

    /// An RFC 8441 WebSocket bridged to an HTTP/1.1 upstream (which answered 101):
    /// listed with its path, the 200 its client got and the `ws` protocol note.
    func testExtendedConnectWebSocketIsListedWithItsPathAndTheClientsStatus() throws {
        let writer = try CaptureWriter(root: root)
        let c = ConnectionID(1), f = FlowID(1)
        writer.record(.connectionOpened(connection: c, client: "127.0.0.1:1", listener: "127.0.0.1:2", time: t(0)))
        writer.record(.flowStarted(flow: f, connection: c, kind: .http, scheme: "https", authority: "localhost:8443", time: t(1)))
        writer.record(.http2Stream(flow: f, streamID: 3, time: t(1)))
        writer.record(.requestHead(flow: f, head: HTTPRequestHead(method: "CONNECT", target: "/chat?room=1", version: .http2, headers: HTTPHeaders([
            (":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "https"), (":path", "/chat?room=1"),
            (":authority", "localhost:8443")])), time: t(2)))
        writer.record(.responseHead(flow: f, head: HTTPResponseHead(status: 101, reason: "Switching Protocols", headers: HTTPHeaders([
            ("Upgrade", "websocket"), ("Connection", "Upgrade")])), time: t(3)))
        writer.record(.webSocketMessage(flow: f, message: WebSocketMessageRecord(fromClient: true, opcode: .text,
                                        payload: Array("hi".utf8), wireBytes: 8, compressed: false), time: t(4)))
        writer.record(.flowEnded(flow: f, timings: FlowTimings(), bytesFromClient: 8, bytesFromServer: 0, error: nil, time: t(5)))
        writer.close()

        let session = try CapturedSession.open(directory: writer.directory)
        let flow = try XCTUnwrap(session.flow(1))
        XCTAssertEqual(flow.kind, .websocket)
        XCTAssertEqual(flow.url, "https://localhost:8443/chat?room=1")
        XCTAssertEqual(flow.clientStatus, 200)
        XCTAssertEqual(flow.response?.status, 101, "the capture keeps the upstream's answer")
        let row = ShowFlowList.lines(session, style: plain)[1]
        XCTAssertTrue(row.contains("CONNECT  https://localhost:8443/chat?room=1  200"), row)
        XCTAssertTrue(row.hasSuffix("HTTP/2 #3 ws"), row)
    }

    /// A long size (compressed, 70 kB) must not run into the hex preview.
    func testWebSocketTimelineKeepsTwoSpacesBeforeThePreview() {
        var flow = CapturedFlow(id: FlowID(1), connection: ConnectionID(1), kind: .websocket, scheme: "http",
                                authority: "a:80", started: t(0), sessionDirectory: root)
        flow.webSocketMessages = [
            CapturedWebSocketMessage(time: t(1), fromClient: false, opcode: "binary", wireBytes: 1_234, size: 70_000,
                                     compressed: true, inlinePayload: [0xde, 0xad, 0xbe, 0xef], truncated: true),
            CapturedWebSocketMessage(time: t(2), fromClient: true, opcode: "binary", wireBytes: 6, size: 4,
                                     compressed: false, inlinePayload: [1, 2, 3, 4]),
        ]
        let lines = ShowWebSocketTimeline.lines(flow, sessionDirectory: root, style: plain)
        XCTAssertTrue(lines[1].contains("70 kB (wire 1.2 kB, deflate)  de ad be ef"), lines[1])
        let previewColumn = lines[1].range(of: "de ad")!.lowerBound.utf16Offset(in: lines[1])
        XCTAssertEqual(lines[2].range(of: "01 02")!.lowerBound.utf16Offset(in: lines[2]), previewColumn,
                       "previews start in one column")
    }

    /// While its writer is open a session is "being written", not "not closed";
    /// once closed, or when the writer is gone without closing, it is not.
    func testWriterLockTellsASessionBeingWrittenFromAKilledOne() throws {
        let writer = try CaptureWriter(root: root)
        XCTAssertEqual(SessionWriterLock.writerState(directory: writer.directory), .alive)
        let open = try CapturedSession.open(directory: writer.directory)
        XCTAssertTrue(open.isBeingWritten)
        XCTAssertFalse(open.warnings.contains { $0.contains("not closed") }, "\(open.warnings)")
        XCTAssertEqual(SessionTable.status(try SessionCatalog.summary(directory: writer.directory)), "being written")
        writer.close()
        XCTAssertEqual(SessionWriterLock.writerState(directory: writer.directory), .gone)
        XCTAssertFalse(try CapturedSession.open(directory: writer.directory).isBeingWritten)

        // A killed writer: session.json still says "ended": null, and nobody holds the lock.
        let killed = root + "/killed"
        try FileManager.default.createDirectory(atPath: killed, withIntermediateDirectories: false)
        let metadata = SessionMetadata(id: "killed", started: t(0), tapline: "test", proxy: [:])
        try Data(metadata.encoded()).write(to: URL(fileURLWithPath: killed + "/session.json"))
        XCTAssertEqual(SessionWriterLock.writerState(directory: killed), .unknown, "no lock file: an older session")
        let lock = try SessionWriterLock.acquire(directory: killed)
        XCTAssertEqual(SessionWriterLock.writerState(directory: killed), .alive)
        lock.release()
        let read = try CapturedSession.open(directory: killed)
        XCTAssertFalse(read.isBeingWritten)
        XCTAssertTrue(read.warnings.contains { $0.contains("not closed (the proxy was killed)") }, "\(read.warnings)")
    }
}
