import TaplineCapture
import TaplineCompression
import TaplineExport
import TaplineFlow
@testable import TaplineProtobuf
import TaplineWire
import XCTest

/// The gRPC call view built from synthetic captured flows: every call kind, messages cut
/// across body chunks, compression, trailers-only answers, status details, truncated
/// bodies, gRPC-Web binary and text.
final class GRPCCallDecoderTests: XCTestCase {
    static let proto = """
    syntax = "proto3";
    package t.v1;
    message Req { string id = 1; }
    message Res { int64 n = 1; string text = 2; }
    message Why { string field = 1; }
    service S {
      rpc Unary(Req) returns (Res);
      rpc Watch(Req) returns (stream Res);
      rpc Upload(stream Req) returns (Res);
      rpc Chat(stream Req) returns (stream Res);
    }
    """

    private func schema() throws -> ProtoSchema {
        try ProtoSchema(files: [ProtoParser.parse(text: Self.proto, name: "t.proto")])
    }

    /// Req{id}: field 1, length-delimited.
    private func req(_ id: String) -> [UInt8] { [0x0A, UInt8(id.utf8.count)] + Array(id.utf8) }
    /// Res{n}: field 1, varint (n < 128).
    private func res(_ n: UInt8) -> [UInt8] { [0x08, n] }

    private func frame(_ payload: [UInt8], flags: UInt8 = 0) -> [UInt8] {
        let n = payload.count
        return [flags, UInt8(n >> 24 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] + payload
    }

    /// A flow for `/t.v1.S/method` whose bodies are stored as the given chunks, chunk i of a
    /// direction recorded at `base + i ms` (request) or `base + 100 + i ms` (response).
    private func flow(_ method: String, contentType: String = "application/grpc",
                      requestChunks: [[UInt8]], responseChunks: [[UInt8]],
                      requestHeaders: [(String, String)] = [], responseHeaders: [(String, String)] = [],
                      trailers: [(String, String)]? = [("grpc-status", "0")]) -> (CapturedFlow, [UInt8], [UInt8]) {
        let base: Int64 = 1_800_000_000_000_000
        var flow = CapturedFlow(id: FlowID(1), connection: ConnectionID(1), kind: .http, scheme: "http",
                                authority: "127.0.0.1:50051", started: Timestamp(microseconds: base), sessionDirectory: "/nonexistent")
        flow.request = HTTPRequestHead(method: "POST", target: "/t.v1.S/\(method)", version: .http2,
                                       headers: HTTPHeaders([("content-type", contentType), ("te", "trailers")] + requestHeaders))
        flow.requestTime = Timestamp(microseconds: base)
        flow.response = HTTPResponseHead(version: .http2, status: 200,
                                         headers: HTTPHeaders([("content-type", contentType)] + responseHeaders))
        flow.responseTime = Timestamp(microseconds: base + 50_000)
        flow.responseTrailers = trailers.map { HTTPHeaders($0) }
        func store(_ chunks: [[UInt8]], into body: inout CapturedBody, at start: Int64) {
            var offset: UInt64 = 0
            for (index, chunk) in chunks.enumerated() {
                body.extents.append(BodyExtent(segment: 1, offset: offset, length: UInt64(chunk.count),
                                               recorded: Timestamp(microseconds: start + Int64(index) * 1_000)))
                offset += UInt64(chunk.count)
            }
            body.capturedBytes = offset
            body.bodyBytes = offset
            body.isComplete = true
        }
        store(requestChunks, into: &flow.requestBody, at: base)
        store(responseChunks, into: &flow.responseBody, at: base + 100_000)
        return (flow, requestChunks.flatMap { $0 }, responseChunks.flatMap { $0 })
    }

    private func view(_ parts: (CapturedFlow, [UInt8], [UInt8]), schema: ProtoSchema?) throws -> GRPCCallView {
        try XCTUnwrap(GRPCCallDecoder(schema: schema).view(of: parts.0, requestBody: parts.1, responseBody: parts.2))
    }

    private func jsons(_ view: GRPCCallView, _ direction: BodyDirection) -> [String] {
        view.messages.filter { $0.direction == direction }.map { $0.content.json.map { JSONWriter.text($0, indent: nil) } ?? "-" }
    }

    func testAUnaryCallIsNamedTypedAndDecodedWithTheSchema() throws {
        let call = try view(flow("Unary", requestChunks: [frame(req("a"))], responseChunks: [frame(res(5))],
                                 requestHeaders: [("x-tag", "t1"), ("grpc-timeout", "1S")]), schema: schema())
        XCTAssertEqual(call.fullMethod, "t.v1.S/Unary")
        XCTAssertEqual(call.kind, .unary)
        XCTAssertFalse(call.kindIsInferred)
        XCTAssertEqual(call.requestType, "t.v1.Req")
        XCTAssertEqual(jsons(call, .request), [#"{"id":"a"}"#])
        XCTAssertEqual(jsons(call, .response), [#"{"n":"5"}"#])
        XCTAssertEqual(call.requestMetadata.fields.map(\.name), ["x-tag"], "grpc- and transport fields are not metadata")
        XCTAssertEqual(call.status, GRPCStatus(code: 0, message: ""))
        XCTAssertEqual(call.notes, [])
    }

    func testEachStreamingKindComesFromTheSchemaOrIsInferredFromTheCounts() throws {
        let cases: [(String, [[UInt8]], [[UInt8]], GRPCCallKind)] = [
            ("Watch", [frame(req("a"))], [frame(res(1)), frame(res(2))], .serverStreaming),
            ("Upload", [frame(req("a")), frame(req("b"))], [frame(res(2))], .clientStreaming),
            ("Chat", [frame(req("a")), frame(req("b"))], [frame(res(1)), frame(res(2))], .bidiStreaming),
        ]
        for (method, requests, responses, kind) in cases {
            let withSchema = try view(flow(method, requestChunks: requests, responseChunks: responses), schema: schema())
            XCTAssertEqual(withSchema.kind, kind, method)
            XCTAssertFalse(withSchema.kindIsInferred, method)
            let without = try view(flow(method, requestChunks: requests, responseChunks: responses), schema: nil)
            XCTAssertEqual(without.kind, kind, method)
            XCTAssertTrue(without.kindIsInferred, method)
            XCTAssertEqual(without.kindText, "\(kind.rawValue) (inferred)")
            XCTAssertEqual(without.messageCount(.request), requests.count)
            XCTAssertEqual(without.messageCount(.response), responses.count)
        }
        // The schema says streaming even when one message went each way.
        let one = try view(flow("Chat", requestChunks: [frame(req("a"))], responseChunks: [frame(res(1))]), schema: schema())
        XCTAssertEqual(one.kind, .bidiStreaming)
    }

    func testWithoutASchemaMessagesAreDecodedRawByFieldNumber() throws {
        let call = try view(flow("Unary", requestChunks: [frame(req("a"))], responseChunks: [frame(res(5))]), schema: nil)
        XCTAssertEqual(jsons(call, .request), [#"{"1":"a"}"#])
        XCTAssertEqual(jsons(call, .response), [#"{"1":5}"#])
        guard case .raw(_, let reason) = call.messages[0].content else { return XCTFail("\(call.messages[0])") }
        XCTAssertTrue(reason.contains("no schema"), reason)
    }

    func testAMessageCutAcrossChunksHasTheTimeOfTheChunkThatCompletedIt() throws {
        let first = frame(res(1)), second = frame(res(2))
        // chunk 0: all of message 0 and 3 bytes of message 1; chunk 1: the rest of message 1
        let chunks = [first + second.prefix(3), Array(second.dropFirst(3))]
        let call = try view(flow("Watch", requestChunks: [frame(req("a"))], responseChunks: chunks), schema: schema())
        let responses = call.messages.filter { $0.direction == .response }
        XCTAssertEqual(jsons(call, .response), [#"{"n":"1"}"#, #"{"n":"2"}"#])
        XCTAssertEqual(responses.map { $0.time?.microseconds }, [1_800_000_000_100_000, 1_800_000_000_101_000])
        XCTAssertTrue(responses.allSatisfy(\.timeIsChunkTime))
    }

    func testWithoutChunkTimesAMessageHasItsHeadsTimeAndSaysSo() throws {
        var parts = flow("Unary", requestChunks: [frame(req("a"))], responseChunks: [frame(res(5))])
        parts.0.responseBody.extents[0].recorded = nil
        let call = try view(parts, schema: schema())
        let response = try XCTUnwrap(call.messages.last)
        XCTAssertEqual(response.time, parts.0.responseTime)
        XCTAssertFalse(response.timeIsChunkTime)
        XCTAssertTrue(call.notes.contains { $0.contains("head") }, "\(call.notes)")
    }

    func testACompressedMessageIsInflatedWithTheCallsGRPCEncoding() throws {
        let compressed = try ZlibDeflater.compress(res(7), format: .gzip)
        let call = try view(flow("Unary", requestChunks: [frame(req("a"))], responseChunks: [frame(compressed, flags: 1)],
                                 responseHeaders: [("grpc-encoding", "gzip")]), schema: schema())
        XCTAssertEqual(jsons(call, .response), [#"{"n":"7"}"#])
        XCTAssertEqual(call.messages.last?.compressed, true)
        XCTAssertEqual(call.messages.last?.wireBytes, compressed.count)
        // An encoding Tapline does not undo: the message says so, the call is still shown.
        let snappy = try view(flow("Unary", requestChunks: [frame(req("a"))], responseChunks: [frame(compressed, flags: 1)],
                                   responseHeaders: [("grpc-encoding", "snappy")]), schema: schema())
        XCTAssertEqual(snappy.messages.last?.content, .notDecoded(reason: "not decoded: encoding snappy"))
    }

    func testATrailersOnlyAnswerHasItsStatusFromTheHeadAndDecodedDetails() throws {
        // google.rpc.Status{code: 3, message: "bad", details: [Any{type_url, value: Why{field: "id"}}]}
        let why: [UInt8] = [0x0A, 0x02] + Array("id".utf8)
        let url = Array("type.googleapis.com/t.v1.Why".utf8)
        let any: [UInt8] = [0x0A, UInt8(url.count)] + url + [0x12, UInt8(why.count)] + why
        let status: [UInt8] = [0x08, 0x03, 0x12, 0x03] + Array("bad".utf8) + [0x1A, UInt8(any.count)] + any
        let parts = flow("Unary", requestChunks: [frame(req("a"))], responseChunks: [],
                         responseHeaders: [("grpc-status", "3"), ("grpc-message", "bad"),
                                           ("grpc-status-details-bin", Base64.encode(status))], trailers: nil)
        let call = try view(parts, schema: schema())
        XCTAssertEqual(call.status, GRPCStatus(code: 3, message: "bad"))
        XCTAssertEqual(call.messageCount(.response), 0)
        XCTAssertNil(call.trailers)
        XCTAssertEqual(call.statusDetails.map { JSONWriter.text($0, indent: nil) },
                       #"{"code":3,"message":"bad","details":[{"@type":"type.googleapis.com/t.v1.Why","field":"id"}]}"#)
        // Without the detail's type, its fields are shown raw.
        let raw = try view(parts, schema: nil)
        XCTAssertEqual(raw.statusDetails.map { JSONWriter.text($0, indent: nil) },
                       #"{"code":3,"message":"bad","details":[{"@type":"type.googleapis.com/t.v1.Why","value":{"1":"id"}}]}"#)
    }

    func testATruncatedBodySaysWhichMessageIsIncomplete() throws {
        let whole = frame(res(1)) + frame([0x12, 0x05] + Array("hello".utf8))
        var parts = flow("Watch", requestChunks: [frame(req("a"))], responseChunks: [Array(whole.prefix(14))])
        parts.0.responseBody.truncated = true
        parts.0.responseBody.bodyBytes = UInt64(whole.count)
        let call = try view(parts, schema: schema())
        let responses = call.messages.filter { $0.direction == .response }
        XCTAssertEqual(responses.count, 2)
        XCTAssertEqual(responses[0].content.json.map { JSONWriter.text($0, indent: nil) }, #"{"n":"1"}"#)
        XCTAssertEqual(responses[1].content, .incomplete(storedBytes: 2, declaredBytes: 7))
        // Cut inside the next frame's 5-byte prefix: its length is unknown.
        var cut = flow("Watch", requestChunks: [frame(req("a"))], responseChunks: [Array(whole.prefix(10))])
        cut.0.responseBody.truncated = true
        XCTAssertEqual(try view(cut, schema: schema()).messages.last?.content, .incomplete(storedBytes: 0, declaredBytes: nil))
        XCTAssertTrue(call.notes.contains { $0.contains("response message 1") && $0.contains("--max-body-capture") }, "\(call.notes)")
    }

    func testGRPCWebBinaryTakesItsStatusFromTheTrailerFrame() throws {
        let trailerFrame = frame(Array("grpc-status: 5\r\ngrpc-message: gone\r\n".utf8), flags: 0x80)
        let call = try view(flow("Unary", contentType: "application/grpc-web+proto", requestChunks: [frame(req("a"))],
                                 responseChunks: [frame(res(9)) + trailerFrame], trailers: nil), schema: schema())
        XCTAssertEqual(call.contentType.name, "grpc-web")
        XCTAssertEqual(jsons(call, .response), [#"{"n":"9"}"#])
        XCTAssertEqual(call.status, GRPCStatus(code: 5, message: "gone"))
        XCTAssertEqual(call.trailers?.first(name: "grpc-status"), "5")
    }

    func testGRPCWebTextIsBase64OfTheFramesInPaddedRuns() throws {
        let body = Array((Base64.encode(frame(res(3))) + Base64.encode(frame(res(4)))).utf8)
        let call = try view(flow("Watch", contentType: "application/grpc-web-text", requestChunks: [Array(Base64.encode(frame(req("a"))).utf8)],
                                 responseChunks: [body]), schema: schema())
        XCTAssertEqual(jsons(call, .request), [#"{"id":"a"}"#])
        XCTAssertEqual(jsons(call, .response), [#"{"n":"3"}"#, #"{"n":"4"}"#])
    }

    func testAFlowThatIsNotGRPCHasNoCallView() {
        var parts = flow("Unary", requestChunks: [], responseChunks: [])
        parts.0.request?.headers = HTTPHeaders([("content-type", "application/json")])
        parts.0.response?.headers = HTTPHeaders([("content-type", "application/json")])
        XCTAssertNil(GRPCCallDecoder(schema: nil).view(of: parts.0, requestBody: [], responseBody: []))
    }
}
