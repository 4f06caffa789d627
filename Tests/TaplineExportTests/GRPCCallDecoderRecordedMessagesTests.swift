import Foundation
import TaplineCapture
import TaplineExport
import TaplineFlow
import TaplineProtobuf
import TaplineWire
import XCTest

/// `GRPCCallDecoder` on flows captured with `grpcMessage` lines: the same view as
/// re-framing the stored bodies (what it does for sessions captured before), but each
/// message's time is when its last byte arrived, and messages the capture cut keep
/// their wire length.
final class GRPCCallDecoderRecordedMessagesTests: XCTestCase {
    private var root = ""

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "tapline-grpc-recorded-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: root)
    }

    private static let proto = """
    syntax = "proto3";
    package t.v1;
    message Req { string id = 1; }
    message Res { int64 n = 1; string text = 2; }
    service S { rpc Chat(stream Req) returns (stream Res); }
    """

    private static func t(_ micros: Int64) -> Timestamp { Timestamp(microseconds: 1_790_000_000_000_000 + micros) }
    private static func req(_ id: String) -> [UInt8] { GRPCMessageFrame.encoded([0x0A, UInt8(id.utf8.count)] + Array(id.utf8)) }
    private static func res(_ n: UInt8) -> [UInt8] { GRPCMessageFrame.encoded([0x08, n]) }

    /// Records a bidi call through a loop's sink, each chunk flushed as its own body line
    /// at 10 µs steps; returns the flow read back.
    private func record(request: [[UInt8]], response: [[UInt8]], options: CaptureOptions = CaptureOptions(),
                        contentType: String = "application/grpc",
                        trailers: HTTPHeaders? = HTTPHeaders([("grpc-status", "0")])) throws -> CapturedFlow {
        let writer = try CaptureWriter(root: root, options: options)
        let sink = writer.makeSink()
        let flow = FlowID(1)
        sink.record(.connectionOpened(connection: ConnectionID(1), client: "127.0.0.1:5000", listener: "l", time: Self.t(0)))
        sink.record(.flowStarted(flow: flow, connection: ConnectionID(1), kind: .http, scheme: "http", authority: "h:80", time: Self.t(1)))
        sink.record(.requestHead(flow: flow, head: HTTPRequestHead(
            method: "POST", target: "/t.v1.S/Chat", version: .http2,
            headers: HTTPHeaders([("content-type", contentType), ("te", "trailers")])), time: Self.t(1)))
        sink.record(.responseHead(flow: flow, head: HTTPResponseHead(
            version: .http2, status: 200, headers: HTTPHeaders([("content-type", contentType)])), time: Self.t(2)))
        var clock: Int64 = 10
        // Interleaved, as a ping-pong: request chunk i, then response chunk i.
        for index in 0..<max(request.count, response.count) {
            if index < request.count {
                sink.recordBody(flow: flow, isRequest: true, bytes: request[index][...], time: Self.t(clock))
                sink.flush()
                clock += 10
            }
            if index < response.count {
                sink.recordBody(flow: flow, isRequest: false, bytes: response[index][...], time: Self.t(clock))
                sink.flush()
                clock += 10
            }
        }
        sink.record(.requestEnd(flow: flow, trailers: nil, bodyBytes: UInt64(request.joined().count), time: Self.t(clock)))
        sink.record(.responseEnd(flow: flow, trailers: trailers,
                                 bodyBytes: UInt64(response.joined().count), time: Self.t(clock)))
        sink.record(.flowEnded(flow: flow, timings: FlowTimings(), bytesFromClient: 0, bytesFromServer: 0, error: nil, time: Self.t(clock)))
        sink.flush()
        writer.close()
        return try XCTUnwrap(CapturedSession.open(directory: writer.directory).flow(1))
    }

    private func views(of flow: CapturedFlow) throws -> (recorded: GRPCCallView, reframed: GRPCCallView) {
        let schema = try ProtoSchema(files: [ProtoParser.parse(text: Self.proto, name: "t.proto")])
        let reader = GRPCCallReader(decoder: GRPCCallDecoder(schema: schema))
        var old = flow
        old.grpcMessages = []
        return (try XCTUnwrap(reader.view(of: flow)), try XCTUnwrap(reader.view(of: old)))
    }

    func testRecordedMessagesGiveTheSameViewAsReFramingTheStoredBodies() throws {
        let requestBody = Self.req("a") + Self.req("bb") + Self.req("")
        let responseBody = Self.res(1) + Self.res(2) + Self.res(3)
        // Cut mid-prefix and mid-payload, so messages complete in later chunks.
        let flow = try record(request: [Array(requestBody.prefix(3)), Array(requestBody[3..<12]), Array(requestBody.dropFirst(12))],
                              response: [Array(responseBody.prefix(9)), Array(responseBody.dropFirst(9))])
        XCTAssertEqual(flow.grpcMessages.count, 6)
        let (recorded, reframed) = try views(of: flow)
        XCTAssertEqual(recorded, reframed)
        XCTAssertEqual(recorded.messages.map { $0.content.json.map { JSONWriter.text($0, indent: nil) } ?? "-" },
                       [#"{"id":"a"}"#, #"{"id":"bb"}"#, "{}", #"{"n":"1"}"#, #"{"n":"2"}"#, #"{"n":"3"}"#])
    }

    func testEachRecordedMessageHasTheTimeOfTheChunkThatCompletedIt() throws {
        // Request chunks at 10, 30; response chunks at 20, 40 (interleaved).
        let flow = try record(request: [Self.req("a"), Self.req("b")], response: [Self.res(1), Self.res(2)])
        let (recorded, _) = try views(of: flow)
        XCTAssertEqual(recorded.messages.map(\.direction), [.request, .request, .response, .response])
        XCTAssertEqual(recorded.messages.map(\.time), [Self.t(10), Self.t(30), Self.t(20), Self.t(40)])
        XCTAssertTrue(recorded.messages.allSatisfy(\.timeIsChunkTime))
    }

    func testMessagesTheCaptureCutAreListedWithTheirWireLength() throws {
        let flow = try record(request: [Self.req("a")], response: [Self.res(1) + Self.res(2) + Self.res(3)],
                              options: CaptureOptions(maxBodyBytes: 10))
        let (recorded, reframed) = try views(of: flow)
        let responses = recorded.messages.filter { $0.direction == .response }
        XCTAssertEqual(responses.first?.content.json.map { JSONWriter.text($0, indent: nil) }, #"{"n":"1"}"#)
        XCTAssertEqual(responses.dropFirst().map(\.content), [.incomplete(storedBytes: 0, declaredBytes: 2),
                                                              .incomplete(storedBytes: 0, declaredBytes: 2)])
        XCTAssertEqual(responses.count, 3, "re-framing sees only the stored bytes: \(reframed.messages.count)")
        XCTAssertTrue(recorded.notes.contains { $0.contains("--max-body-capture") }, "\(recorded.notes)")
    }

    func testAGRPCWebTrailerFrameAndAMalformedFrameReadBackAsWhenReFramed() throws {
        let trailerFrame = GRPCMessageFrame.encoded(Array("grpc-status: 5\r\ngrpc-message: gone\r\n".utf8), flags: 0x80)
        let web = try record(request: [Self.req("a")], response: [Self.res(9) + trailerFrame],
                             contentType: "application/grpc-web+proto", trailers: nil)
        XCTAssertEqual(web.grpcMessages.map(\.kind), [.message, .message, .webTrailers])
        let (recorded, reframed) = try views(of: web)
        XCTAssertEqual(recorded, reframed)
        XCTAssertEqual(recorded.status, GRPCStatus(code: 5, message: "gone"))
        // Reserved flag bits: the messages before it, then a note; the same as re-framing.
        let bad = try record(request: [Self.req("a") + [0x02, 0, 0, 0, 1, 7]], response: [Self.res(1)])
        let (badRecorded, badReframed) = try views(of: bad)
        XCTAssertEqual(badRecorded, badReframed)
        XCTAssertTrue(badRecorded.notes.contains { $0.contains("reserved flag bits") }, "\(badRecorded.notes)")
    }
}
