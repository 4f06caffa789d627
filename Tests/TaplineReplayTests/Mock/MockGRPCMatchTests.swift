import TaplineExport
@testable import TaplineReplay
import TaplineWire
import XCTest

/// `tapline mock` matching gRPC calls on their decoded request messages
/// (`MockRequestBody.grpc`, `MockRequestMatcher.grpcMessagesDifference`).
final class MockGRPCMatchTests: XCTestCase {
    typealias Calls = GRPCTestCalls

    private func call(_ messages: [[UInt8]], decoder: GRPCCallDecoder, method: String = "Get") -> MockRequest {
        MockRequest(method: "POST", target: "/t.v1.S/\(method)", headers: Calls.requestHeaders,
                    body: Calls.frames(messages), grpcDecoder: decoder)
    }

    private func recordings(_ requests: [MockRequest]) throws -> [MockRecording] {
        let fixture = try MockRecordingFixture()
        return try requests.map { request in
            var recording = try fixture.recording("POST", request.path)
            recording.request = request
            return recording
        }
    }

    func testARequestReEncodedMatchesItsRecordingWithAndWithoutASchema() throws {
        let recorded = Calls.encode([.string(1, "o-1"), .varint(2, 5), .packed(3, [1, 2])])
        let reEncoded = Calls.encode([.varint(3, 1), .varint(3, 2), .varint(2, 5), .string(1, "o-1")])
        let schema = GRPCCallDecoder(schema: try Calls.schema())
        let matcher = MockRequestMatcher()
        XCTAssertEqual(matcher.matches(call([reEncoded], decoder: schema), in: try recordings([call([recorded], decoder: schema)])), [0],
                       "field order and packed/unpacked do not count with the schema")

        let schemaless = GRPCCallDecoder(schema: nil)
        let plain = Calls.encode([.string(1, "o-1"), .varint(2, 5)])
        let reordered = Calls.encode([.varint(2, 5), .string(1, "o-1")])
        XCTAssertEqual(matcher.matches(call([reordered], decoder: schemaless),
                                       in: try recordings([call([plain], decoder: schemaless)])), [0],
                       "without a schema field numbers are compared, in any order")
        XCTAssertEqual(matcher.matches(call([reEncoded], decoder: schemaless),
                                       in: try recordings([call([recorded], decoder: schemaless)])), [0],
                       "without a schema packed and unpacked varints line up")
        let omitted = Calls.encode([.string(1, "o-1")])
        let withDefault = Calls.encode([.string(1, "o-1"), .varint(2, 0)])
        XCTAssertEqual(matcher.matches(call([withDefault], decoder: schema),
                                       in: try recordings([call([omitted], decoder: schema)])), [0],
                       "a default written out or omitted is the same proto3 message")
    }

    func testADifferentMessageIsANearMissNamedByIndexAndPointerAndIgnoreRulesApplyInside() throws {
        let schema = GRPCCallDecoder(schema: try Calls.schema())
        let recorded = try recordings([call([Calls.encode([.string(1, "o-1"), .varint(2, 5)]), Calls.encode([.string(1, "o-2")])],
                                            decoder: schema, method: "Watch")])
        let live = call([Calls.encode([.string(1, "o-1"), .varint(2, 6)])], decoder: schema, method: "Watch")
        let matcher = MockRequestMatcher()
        XCTAssertEqual(matcher.matches(live, in: recorded), [])
        let miss = try XCTUnwrap(matcher.nearMisses(live, in: recorded).first)
        XCTAssertEqual(miss.mismatches.map(\.field), ["body"])
        XCTAssertEqual(miss.mismatches.first?.received, "request message 0: /n (changed); request message 1: only recorded")

        let loose = MockRequestMatcher(rules: MockMatchRules(ignoredBodyPaths: [try XCTUnwrap(JSONPointerPattern("/n"))]))
        let oneMessage = try recordings([call([Calls.encode([.string(1, "o-1"), .varint(2, 5)])], decoder: schema, method: "Watch")])
        XCTAssertEqual(loose.matches(live, in: oneMessage), [0], "--ignore-body-path /n applies inside every message")
    }
}
