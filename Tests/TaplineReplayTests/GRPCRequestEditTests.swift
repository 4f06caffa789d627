import TaplineCapture
import TaplineFlow
import TaplineProtobuf
@testable import TaplineReplay
import TaplineWire
import XCTest

/// `GRPCRequestEdit` (`tapline replay --edit`): the new request body is the JSON encoded as
/// the method's input type, framed like the recorded message; and each refusal says why.
final class GRPCRequestEditTests: XCTestCase {
    typealias Calls = GRPCTestCalls

    private func flow(method: String = "Get", headers: [(String, String)] = [("Content-Type", "application/grpc")]) -> CapturedFlow {
        var flow = CapturedFlow(id: FlowID(4), connection: ConnectionID(1), kind: .http, scheme: "http",
                                authority: "127.0.0.1:50051", started: Timestamp(microseconds: 0), sessionDirectory: "/nonexistent")
        flow.request = HTTPRequestHead(method: "POST", target: "/t.v1.S/\(method)",
                                       headers: HTTPHeaders(headers.map { (name: $0.0, value: $0.1) }))
        return flow
    }

    private func json(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

    func testTheJSONIsEncodedAsTheInputTypeAndFramedAsRecorded() throws {
        let edit = GRPCRequestEdit(schema: try Calls.schema())
        let stored = Calls.frames([Calls.encode([.string(1, "o-1")])])
        let body = try edit.requestBody(of: flow(), storedRequestBody: stored, json: try json(#"{"id":"o-7","n":3}"#), file: "e.json")
        XCTAssertEqual(body, Calls.frames([Calls.encode([.string(1, "o-7"), .varint(2, 3)])]))
    }

    func testARecordedCompressedMessageIsSentCompressedWithTheCallsEncoding() throws {
        let edit = GRPCRequestEdit(schema: try Calls.schema())
        let recorded = try GRPCMessageCompressor.compress(Calls.encode([.string(1, "o-1")]), grpcEncoding: "gzip")
        let stored = GRPCMessageFrame.encoded(recorded, flags: GRPCMessageFrame.compressedFlag)
        let gzipped = flow(headers: [("Content-Type", "application/grpc"), ("grpc-encoding", "gzip")])
        let body = try edit.requestBody(of: gzipped, storedRequestBody: stored, json: try json(#"{"id":"o-7"}"#), file: "e.json")
        XCTAssertEqual(body.first, GRPCMessageFrame.compressedFlag, "the compressed flag is kept")
        let payload = body[GRPCMessageFrame.prefixSize...]
        XCTAssertEqual(try GRPCMessageDecompressor.decompress(payload, compressed: true, grpcEncoding: "gzip"),
                       Calls.encode([.string(1, "o-7")]))
    }

    func testRefusals() throws {
        let edit = GRPCRequestEdit(schema: try Calls.schema())
        let stored = Calls.frames([Calls.encode([.string(1, "o-1")])])
        let fits = try json(#"{"id":"o-7"}"#)
        func refusal(_ flow: CapturedFlow, _ json: JSONValue, schema: GRPCRequestEdit? = nil, stored body: [UInt8]? = nil) -> String {
            do {
                _ = try (schema ?? edit).requestBody(of: flow, storedRequestBody: body ?? stored, json: json, file: "e.json")
                return "accepted"
            } catch {
                return error.description
            }
        }
        XCTAssertTrue(refusal(flow(headers: [("Content-Type", "application/json")]), fits).contains("is not a gRPC call"))
        XCTAssertTrue(refusal(flow(method: "Watch"), fits).contains("not a unary call: the schema says it is server streaming"))
        XCTAssertTrue(refusal(flow(method: "Nope"), fits).contains("service t.v1.S in the schema has no method Nope"))
        XCTAssertTrue(refusal(flow(), fits, schema: GRPCRequestEdit(schema: nil)).contains("no schema given"))
        XCTAssertTrue(refusal(flow(), fits, stored: Calls.frames([[], []])).contains("recorded with 2 request messages, not 1"))
        let misfit = refusal(flow(), try json(#"{"id":"o-7","tags":[1,"two"]}"#))
        XCTAssertTrue(misfit.contains("e.json is not a t.v1.Req for flow 4: at JSON Pointer /tags/1"), misfit)
    }
}
