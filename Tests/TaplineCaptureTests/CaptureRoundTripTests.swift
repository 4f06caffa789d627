import Foundation
import XCTest
import TaplineFlow
import TaplineWire
@testable import TaplineCapture

final class CaptureRoundTripTests: XCTestCase {
    private var root = ""

    override func setUpWithError() throws {
        root = try CaptureTestSupport.makeTemporaryDirectory()
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: root)
    }

    func testSyntheticSessionReadsBackExactly() throws {
        let (directory, expected) = try CaptureTestSupport.makeSyntheticSession(
            root: root, options: CaptureOptions(proxyDescription: ["mode": "forward", "listen": "127.0.0.1:8080"], taplineVersion: "9.9.9"))
        let session = try CapturedSession.open(directory: directory)

        XCTAssertEqual(session.warnings, [])
        XCTAssertTrue(session.isClosed)
        XCTAssertEqual(session.metadata.tapline, "9.9.9")
        XCTAssertEqual(session.metadata.proxy, ["mode": "forward", "listen": "127.0.0.1:8080"])
        XCTAssertEqual(session.metadata.stats?.flows, 4)
        XCTAssertEqual(session.flows.map(\.id.rawValue), [1, 2, 3, 4])
        XCTAssertEqual(session.connections.count, 2)

        let flow1 = try XCTUnwrap(session.flow(1))
        XCTAssertEqual(flow1.state, .complete)
        XCTAssertEqual(flow1.kind, .http)
        XCTAssertEqual(flow1.url, "https://api.example.com:443/v1/upload?name=a%20b&x=1")
        XCTAssertEqual(flow1.request, expected.requestHead1)
        XCTAssertEqual(flow1.request?.headers.fields.map(\.name), ["Host", "transfer-encoding", "Expect", "X-Weird-CASE", "x-weird-case", "Content-Type"])
        XCTAssertEqual(flow1.interimResponses, [expected.interim1])
        XCTAssertEqual(flow1.response, expected.responseHead1)
        XCTAssertEqual(flow1.requestTrailers, expected.requestTrailers1)
        XCTAssertEqual(flow1.responseTrailers, expected.responseTrailers1)
        XCTAssertEqual(flow1.timings, expected.timings1)
        XCTAssertEqual(flow1.clientAddress, "127.0.0.1:50001")
        XCTAssertEqual(flow1.clientTLS, expected.clientTLS)
        XCTAssertEqual(flow1.upstreamTLS, expected.upstreamTLS)
        XCTAssertEqual(flow1.serverAddress, "93.184.216.34:443")
        XCTAssertFalse(flow1.upstreamReused)
        XCTAssertEqual(flow1.bytesFromClient, 9_000)
        XCTAssertEqual(flow1.requestBody.bodyBytes, UInt64(expected.requestBody1.count))
        XCTAssertEqual(flow1.requestBody.capturedBytes, UInt64(expected.requestBody1.count))
        XCTAssertFalse(flow1.requestBody.truncated)
        XCTAssertTrue(flow1.requestBody.isComplete)
        XCTAssertEqual(try readAll(flow1.requestBody), expected.requestBody1)
        XCTAssertEqual(try readAll(flow1.responseBody), expected.responseBody1)
        XCTAssertEqual(try flow1.responseBody.bodyData(limit: 100), Array(expected.responseBody1.prefix(100)))
        XCTAssertEqual(flow1.durationMilliseconds ?? 0, 12.245, accuracy: 0.0001)

        let flow2 = try XCTUnwrap(session.flow(2))
        XCTAssertEqual(flow2.url, "http://plain.example:80/hello")
        XCTAssertEqual(flow2.response?.status, 200)
        XCTAssertTrue(flow2.upstreamReused)
        XCTAssertEqual(flow2.clientAddress, "[::1]:50002")
        XCTAssertNil(flow2.clientTLS)
        XCTAssertEqual(try readAll(flow2.responseBody), expected.responseBody2)
        XCTAssertEqual(flow2.requestBody.extents, [])

        let flow3 = try XCTUnwrap(session.flow(3))
        XCTAssertEqual(flow3.state, .aborted)
        XCTAssertEqual(flow3.error, RecordedError(expected.abortError))
        XCTAssertEqual(flow3.error?.knownKind, .upstreamUnreachable)
        XCTAssertNil(flow3.response)

        let flow4 = try XCTUnwrap(session.flow(4))
        XCTAssertEqual(flow4.kind, .tunnel)
        XCTAssertEqual(flow4.bytesFromClient, 1_234)
        XCTAssertEqual(flow4.bytesFromServer, 5_678)
        XCTAssertEqual(flow4.state, .complete)

        let connection2 = session.connections[1]
        XCTAssertEqual(connection2.error, RecordedError(kind: "client-aborted", message: "reset by peer"))
        XCTAssertEqual(connection2.bytesSent, 6_300)
        XCTAssertNil(session.flow(5))
    }

    func testFilesArePrivateAndLinesAreJSON() throws {
        let (directory, expected) = try CaptureTestSupport.makeSyntheticSession(root: root, asOneBatch: true)
        XCTAssertEqual(CaptureTestSupport.mode(directory), 0o700)
        XCTAssertEqual(CaptureTestSupport.mode(directory + "/bodies"), 0o700)
        XCTAssertEqual(CaptureTestSupport.mode(directory + "/session.json"), 0o600)
        XCTAssertEqual(CaptureTestSupport.mode(directory + "/events.jsonl"), 0o600)
        XCTAssertEqual(CaptureTestSupport.mode(directory + "/bodies/000001.bin"), 0o600)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/session.json.tmp"))

        let name = (directory as NSString).lastPathComponent
        XCTAssertNotNil(name.range(of: #"^\d{8}-\d{6}-[0-9a-f]{4}$"#, options: .regularExpression), name)

        let lines = try CaptureTestSupport.lines(of: directory + "/events.jsonl")
        XCTAssertEqual(lines.last, "")  // ends with a newline
        for line in lines.dropLast() {
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], line)
            XCTAssertNotNil(object["t"], line)
            XCTAssertNotNil(object["type"], line)
            XCTAssertTrue(line.hasPrefix("{\"t\":"), line)
        }
        // Consecutive chunks of one flow and direction in one batch are coalesced,
        // so there are far fewer body lines than the 95 chunks recorded.
        let bodyLines = lines.filter { $0.contains("\"type\":\"body\"") }
        // Flow 1's request chunks interleave with flow 2's response chunks for 30
        // rounds (60 lines), then its last 10 request chunks and its 25 response
        // chunks are consecutive (1 line each).
        XCTAssertEqual(bodyLines.count, 62)
        let session = try CapturedSession.open(directory: directory)
        XCTAssertEqual(session.flow(1)?.responseBody.extents.count, 1)
        XCTAssertEqual(session.flow(1)?.responseBody.capturedBytes, UInt64(expected.responseBody1.count))

        let metadata = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/session.json"))) as? [String: Any]
        XCTAssertEqual(metadata?["format"] as? String, "tapline-capture")
        XCTAssertEqual(metadata?["version"] as? Int, SessionMetadata.currentVersion)
        XCTAssertNotNil(metadata?["ended"] as? String)
    }

    /// `tapline run` records its command; the argv comes back exactly, quotes and
    /// spaces included, and a session without one reads back without one.
    func testCommandRoundTripsThroughSessionJSON() throws {
        let command = ["sh", "-c", "echo \"a b\" 'c'\n", ""]
        let writer = try CaptureWriter(root: root, options: CaptureOptions(command: command))
        writer.close()
        XCTAssertEqual(try SessionMetadata.read(directory: writer.directory).command, command)
        let plain = try CaptureWriter(root: root)
        plain.close()
        XCTAssertNil(try SessionMetadata.read(directory: plain.directory).command)
        let json = try String(contentsOfFile: plain.directory + "/session.json", encoding: .utf8)
        XCTAssertFalse(json.contains("\"command\""), json)
    }

    func testSessionJSONSaysNotEndedWhileOpen() throws {
        let writer = try CaptureWriter(root: root)
        let metadata = try SessionMetadata.read(directory: writer.directory)
        XCTAssertNil(metadata.ended)
        XCTAssertEqual(metadata.id, writer.sessionID)
        writer.close()
        writer.close()  // idempotent
        XCTAssertNotNil(try SessionMetadata.read(directory: writer.directory).ended)
    }

    func testMaxBodyBytesKeepsThePrefixAndCounts() throws {
        let writer = try CaptureWriter(root: root, options: CaptureOptions(maxBodyBytes: 1000))
        var sent: [UInt8] = []
        writer.record(.connectionOpened(connection: ConnectionID(1), client: "c", listener: "l", time: CaptureTestSupport.t(0)))
        writer.record(.flowStarted(flow: FlowID(1), connection: ConnectionID(1), kind: .http, scheme: "http", authority: "h:80", time: CaptureTestSupport.t(1)))
        writer.record(.requestHead(flow: FlowID(1), head: HTTPRequestHead(method: "GET", target: "/"), time: CaptureTestSupport.t(2)))
        writer.record(.requestEnd(flow: FlowID(1), trailers: nil, bodyBytes: 0, time: CaptureTestSupport.t(3)))
        writer.record(.responseHead(flow: FlowID(1), head: HTTPResponseHead(status: 200), time: CaptureTestSupport.t(4)))
        for index in 0..<10 {
            let bytes = CaptureTestSupport.chunk(seed: 9, index: index, size: 300)
            sent += bytes
            writer.record(.responseBody(flow: FlowID(1), bytes: bytes))
        }
        writer.record(.responseEnd(flow: FlowID(1), trailers: nil, bodyBytes: 3000, time: CaptureTestSupport.t(5)))
        writer.record(.flowEnded(flow: FlowID(1), timings: FlowTimings(), bytesFromClient: 0, bytesFromServer: 3100, error: nil, time: CaptureTestSupport.t(6)))
        writer.close()

        let flow = try XCTUnwrap(CapturedSession.open(directory: writer.directory).flow(1))
        XCTAssertEqual(flow.responseBody.bodyBytes, 3000)
        XCTAssertEqual(flow.responseBody.capturedBytes, 1000)
        XCTAssertTrue(flow.responseBody.truncated)
        XCTAssertFalse(flow.requestBody.truncated)
        XCTAssertEqual(try readAll(flow.responseBody), Array(sent.prefix(1000)))
        let line = try CaptureTestSupport.lines(of: writer.directory + "/events.jsonl").first { $0.contains("responseEnd") }
        XCTAssertTrue(line?.contains(#""bodyBytes":3000,"capturedBytes":1000,"truncated":true"#) ?? false, line ?? "")
    }

    func testSegmentsRollOverWithoutSplittingExtents() throws {
        let writer = try CaptureWriter(root: root, options: CaptureOptions(segmentLimit: 10_000))
        writer.record(.connectionOpened(connection: ConnectionID(1), client: "c", listener: "l", time: CaptureTestSupport.t(0)))
        writer.record(.flowStarted(flow: FlowID(1), connection: ConnectionID(1), kind: .http, scheme: "http", authority: "h:80", time: CaptureTestSupport.t(1)))
        var sent: [UInt8] = []
        for index in 0..<20 {
            let bytes = CaptureTestSupport.chunk(seed: 4, index: index, size: 3_000)
            sent += bytes
            writer.record(.requestBody(flow: FlowID(1), bytes: bytes))
        }
        writer.record(.requestEnd(flow: FlowID(1), trailers: nil, bodyBytes: UInt64(sent.count), time: CaptureTestSupport.t(2)))
        writer.close()
        let flow = try XCTUnwrap(CapturedSession.open(directory: writer.directory).flow(1))
        XCTAssertGreaterThan(Set(flow.requestBody.extents.map(\.segment)).count, 4)
        XCTAssertTrue(FileManager.default.fileExists(atPath: writer.directory + "/bodies/000005.bin"))
        XCTAssertEqual(try readAll(flow.requestBody), sent)
    }

    func testJSONEscapingOfControlCharacters() throws {
        var json = JSONLineBuilder()
        json.beginObject()
        json.key("s"); json.string("a\"b\\c\n\r\t\u{01}\u{1F}é")
        json.key("n"); json.integer(Int64(-42))
        json.key("u"); json.integer(UInt64.max)
        json.key("a"); json.beginArray(); json.element(); json.bool(true); json.element(); json.null(); json.endArray()
        json.endObject()
        XCTAssertEqual(String(decoding: json.bytes, as: UTF8.self),
                       #"{"s":"a\"b\\c\n\r\t\u0001\u001fé","n":-42,"u":18446744073709551615,"a":[true,null]}"#)
    }

    func testTimeFormatRoundTrips() {
        let time = Timestamp(microseconds: 1_795_708_020_123_456)
        let text = CaptureTimeFormat.iso8601(time)
        XCTAssertEqual(text, "2026-11-26T15:47:00.123Z")
        XCTAssertEqual(CaptureTimeFormat.parseISO8601(text), Timestamp(microseconds: 1_795_708_020_123_000))
        XCTAssertEqual(CaptureTimeFormat.parseISO8601("2026-11-26T15:47:00Z"), Timestamp(microseconds: 1_795_708_020_000_000))
        XCTAssertNil(CaptureTimeFormat.parseISO8601("yesterday"))
    }

    /// The stored bytes of a body, streamed through a pipe-free temp file.
    private func readAll(_ body: CapturedBody) throws -> [UInt8] {
        let path = root + "/out-" + UUID().uuidString
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        XCTAssertGreaterThanOrEqual(fd, 0)
        let written = try body.write(to: fd)
        close(fd)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        XCTAssertEqual(written, UInt64(bytes.count))
        return bytes
    }
}
