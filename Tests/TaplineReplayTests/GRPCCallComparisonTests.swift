import TaplineExport
import TaplineFlow
@testable import TaplineReplay
import TaplineWire
import XCTest

/// `GRPCCallComparison`: gRPC calls compared message by message as JSON, with and
/// without a schema, pointers within each message, and the decoded status details.
final class GRPCCallComparisonTests: XCTestCase {
    typealias Calls = GRPCTestCalls

    private let reply = Calls.encode([.message(1, [.string(1, "pen"), .string(2, "mon")]),
                                      .message(1, [.string(1, "ink"), .string(2, "tue")])])

    func testTwoEncodingsOfOneRequestAreEqualWithTheSchemaAndFieldOrderDoesNotCountWithout() throws {
        let inOrder = Calls.encode([.string(1, "o-1"), .varint(2, 5), .packed(3, [1, 2])])
        let reordered = Calls.encode([.varint(2, 5), .varint(3, 1), .varint(3, 2), .string(1, "o-1")])
        let decoder = GRPCCallDecoder(schema: try Calls.schema())
        let a = try XCTUnwrap(Calls.view(decoder, request: [inOrder], response: [reply]))
        let b = try XCTUnwrap(Calls.view(decoder, request: [reordered], response: [reply]))
        XCTAssertEqual(GRPCCallComparison().differences(a, b), [], "field order and packed/unpacked do not count")

        let schemaless = GRPCCallDecoder(schema: nil)
        let rawA = try XCTUnwrap(Calls.view(schemaless, request: [Calls.encode([.string(1, "o-1"), .varint(2, 5)])], response: [reply]))
        let rawB = try XCTUnwrap(Calls.view(schemaless, request: [Calls.encode([.varint(2, 5), .string(1, "o-1")])], response: [reply]))
        XCTAssertEqual(GRPCCallComparison().differences(rawA, rawB), [], "schemaless: keys are field numbers, order ignored")
        let packed = try XCTUnwrap(Calls.view(schemaless, request: [inOrder], response: [reply]))
        let unpacked = try XCTUnwrap(Calls.view(schemaless, request: [reordered], response: [reply]))
        XCTAssertEqual(GRPCCallComparison().differences(packed, unpacked), [], "schemaless: packed and unpacked varints line up")
        let other = try XCTUnwrap(Calls.view(schemaless, request: [Calls.encode([.string(1, "o-1"), .varint(2, 5), .varint(3, 1),
                                                                                  .varint(3, 3)])], response: [reply]))
        guard case .grpcMessage(let changed)? = GRPCCallComparison().differences(packed, other).first,
              case .json(let changes) = changed.change else { return XCTFail("another element differs") }
        XCTAssertEqual(changes.map(\.pointer.text), ["/3/1"])
    }

    func testAChangedFieldIsReportedByMessageAndPointerAndIgnoreRulesApplyInsideEveryMessage() throws {
        let changed = Calls.encode([.message(1, [.string(1, "pen"), .string(2, "wed")]),
                                    .message(1, [.string(1, "INK"), .string(2, "thu")])])
        let request = Calls.encode([.string(1, "o-1")])
        let decoder = GRPCCallDecoder(schema: try Calls.schema())
        let a = try XCTUnwrap(Calls.view(decoder, method: "Watch", request: [request], response: [reply, reply]))
        let b = try XCTUnwrap(Calls.view(decoder, method: "Watch", request: [request], response: [reply, changed]))
        let differences = GRPCCallComparison().differences(a, b)
        guard case .grpcMessage(let message)? = differences.first, case .json(let changes) = message.change else {
            return XCTFail("expected one changed response message, got \(differences)")
        }
        XCTAssertEqual(differences.count, 1)
        XCTAssertEqual(message.direction, .response)
        XCTAssertEqual(message.index, 1, "the second response message")
        XCTAssertEqual(changes.map(\.pointer.text), ["/items/0/updatedAt", "/items/1/name", "/items/1/updatedAt"],
                       "pointers within the message, proto3 JSON names")

        let ignoring = GRPCCallComparison(json: JSONDiff(ignoredPaths: [try XCTUnwrap(JSONPointerPattern("/items/*/updatedAt"))]))
        guard case .grpcMessage(let left)? = ignoring.differences(a, b).first, case .json(let remaining) = left.change else {
            return XCTFail("the name change remains")
        }
        XCTAssertEqual(remaining.map(\.pointer.text), ["/items/1/name"])

        let schemaless = GRPCCallDecoder(schema: nil)
        let rawA = try XCTUnwrap(Calls.view(schemaless, request: [request], response: [reply]))
        let rawB = try XCTUnwrap(Calls.view(schemaless, request: [request], response: [changed]))
        guard case .grpcMessage(let raw)? = GRPCCallComparison().differences(rawA, rawB).first,
              case .json(let rawChanges) = raw.change else { return XCTFail("schemaless changes expected") }
        XCTAssertEqual(rawChanges.map(\.pointer.text), ["/1/0/2", "/1/1/1", "/1/1/2"], "without a schema: field numbers")
    }

    /// Without a schema a field is a value when it occurs once and an array when it occurs
    /// more often: a reply that gained an item reports the item added, not the field changed.
    func testSchemalessRepeatedFieldThatGrewReportsTheAddedElement() throws {
        let one = Calls.encode([.message(1, [.string(1, "pen"), .string(2, "mon")])])
        let schemaless = GRPCCallDecoder(schema: nil)
        let request = Calls.encode([.string(1, "o-1")])
        let a = try XCTUnwrap(Calls.view(schemaless, request: [request], response: [one]))
        let b = try XCTUnwrap(Calls.view(schemaless, request: [request], response: [reply]))
        for (left, right) in [(a, b), (b, a)] {
            guard case .grpcMessage(let message)? = GRPCCallComparison().differences(left, right).first,
                  case .json(let changes) = message.change else { return XCTFail("a changed response message") }
            XCTAssertEqual(changes.map(\.pointer.text), ["/1/1"], "the second item, added or removed")
        }
        let tags = try XCTUnwrap(Calls.view(schemaless, request: [Calls.encode([.varint(3, 7)])], response: [reply]))
        let moreTags = try XCTUnwrap(Calls.view(schemaless, request: [Calls.encode([.packed(3, [7, 8])])], response: [reply]))
        guard case .grpcMessage(let message)? = GRPCCallComparison().differences(tags, moreTags).first,
              case .json(let changes) = message.change else { return XCTFail("a changed request message") }
        XCTAssertEqual(changes.map(\.pointer.text), ["/3/1"], "a packed field that grew: the element added")
    }

    func testMissingAndExtraMessages() throws {
        let decoder = GRPCCallDecoder(schema: try Calls.schema())
        let request = Calls.encode([.string(1, "o-1")])
        let a = try XCTUnwrap(Calls.view(decoder, method: "Watch", request: [request], response: [reply, reply]))
        let b = try XCTUnwrap(Calls.view(decoder, method: "Watch", request: [request], response: [reply]))
        XCTAssertEqual(GRPCCallComparison().differences(a, b),
                       [.grpcMessage(GRPCMessageDifference(direction: .response, index: 1, change: .missing(wireBytes: reply.count)))])
        XCTAssertEqual(GRPCCallComparison().differences(b, a),
                       [.grpcMessage(GRPCMessageDifference(direction: .response, index: 1, change: .extra(wireBytes: reply.count)))])
    }

    func testStatusDetailsAreComparedDecoded() throws {
        /// A google.rpc.Status (code 5, "gone") with one detail: an Any holding a t.v1.Item named `name`.
        func details(_ name: String) -> String {
            let item = Calls.encode([.string(1, name)])
            let any = Calls.encode([.string(1, "type.googleapis.com/t.v1.Item"), .bytes(2, item)])
            return Base64.encode(Calls.encode([.varint(1, 5), .string(2, "gone"), .bytes(3, any)]))
        }
        let decoder = GRPCCallDecoder(schema: try Calls.schema())
        let request = Calls.encode([.string(1, "o-1")])
        let a = try XCTUnwrap(Calls.view(decoder, request: [request], response: [],
                                         trailers: [("grpc-status", "5"), ("grpc-status-details-bin", details("pen"))]))
        let b = try XCTUnwrap(Calls.view(decoder, request: [request], response: [],
                                         trailers: [("grpc-status", "5"), ("grpc-status-details-bin", details("ink"))]))
        let differences = GRPCCallComparison().differences(a, b)
        guard case .grpcStatusDetails(let changes)? = differences.first else { return XCTFail("details differ: \(differences)") }
        XCTAssertEqual(changes.map(\.pointer.text), ["/details/0/name"], "the detail decoded as t.v1.Item")
        XCTAssertEqual(changes.first?.b, .string("ink"))
    }

    func testCallsPairByTheirRequestMessagesNotTheirBytes() throws {
        let schemaless = GRPCCallDecoder(schema: nil)
        func digest(_ fields: [Calls.Field]) throws -> String {
            let messages = try XCTUnwrap(schemaless.requestMessages(target: "/t.v1.S/Get", headers: Calls.requestHeaders,
                                                                    body: Calls.frames([Calls.encode(fields)])))
            return RequestBodyDigest.grpcDigest(messages)
        }
        XCTAssertEqual(try digest([.string(1, "o-1"), .varint(2, 5)]), try digest([.varint(2, 5), .string(1, "o-1")]),
                       "field order does not count")
        XCTAssertNotEqual(try digest([.string(1, "o-1"), .varint(2, 5)]), try digest([.string(1, "o-1"), .varint(2, 6)]))
    }
}
