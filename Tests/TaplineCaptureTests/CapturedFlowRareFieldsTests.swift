import XCTest
import TaplineFlow
import TaplineWire
@testable import TaplineCapture

/// `CapturedFlow`'s fields a plain exchange leaves empty live behind one shared reference
/// (`CapturedFlowRareFields`): they must read, write, copy and compare as stored fields do.
final class CapturedFlowRareFieldsTests: XCTestCase {
    private func plainFlow() -> CapturedFlow {
        CapturedFlow(id: FlowID(1), connection: ConnectionID(1), kind: .http, scheme: "http", authority: "a:80",
                     started: Timestamp(microseconds: 1), sessionDirectory: "/s")
    }

    private let message = CapturedWebSocketMessage(time: Timestamp(microseconds: 2), fromClient: true, opcode: "text",
                                                   wireBytes: 7, size: 5, compressed: false, inlinePayload: Array("hello".utf8))
    private let grpc = CapturedGRPCMessage(direction: .response, index: 0, kind: .message, compressed: false, wireBytes: 5,
                                           payloadOffset: 0, truncated: false, time: Timestamp(microseconds: 3))

    /// Every field, set on a flow, reads back as set; the others stay empty.
    func testEachFieldReadsWhatWasSet() {
        var flow = plainFlow()
        XCTAssertNil(flow.requestTrailers)
        XCTAssertNil(flow.responseTrailers)
        XCTAssertEqual(flow.interimResponses, [])
        XCTAssertEqual(flow.http2Resets, [])
        XCTAssertEqual(flow.webSocketMessages, [])
        XCTAssertEqual(flow.grpcMessages, [])
        XCTAssertNil(flow.error)
        XCTAssertEqual(flow.extensions, [:])

        flow.requestTrailers = HTTPHeaders([("x-a", "1")])
        flow.responseTrailers = HTTPHeaders([("grpc-status", "0")])
        flow.interimResponses.append(HTTPResponseHead(status: 103, reason: "Early Hints"))
        flow.http2Resets = [CapturedHTTP2Reset(fromClient: true, errorCode: 8, time: Timestamp(microseconds: 4))]
        flow.webSocketMessages.append(message)
        flow.grpcMessages.append(grpc)
        flow.error = RecordedError(kind: "timeout", message: "late")
        flow.extensions["note"] = .string("n")

        XCTAssertEqual(flow.requestTrailers, HTTPHeaders([("x-a", "1")]))
        XCTAssertEqual(flow.responseTrailers, HTTPHeaders([("grpc-status", "0")]))
        XCTAssertEqual(flow.interimResponses.map(\.status), [103])
        XCTAssertEqual(flow.http2Resets.map(\.errorCode), [8])
        XCTAssertEqual(flow.webSocketMessages, [message])
        XCTAssertEqual(flow.grpcMessages, [grpc])
        XCTAssertEqual(flow.error, RecordedError(kind: "timeout", message: "late"))
        XCTAssertEqual(flow.extensions, ["note": .string("n")])
        XCTAssertEqual(flow.state, .inProgress)
        flow.ended = Timestamp(microseconds: 9)
        XCTAssertEqual(flow.state, .aborted, "the error is read through the box")
    }

    /// A copy is a value: changing it, in place or by assignment, leaves the original
    /// as it was, and the other way round.
    func testACopyChangedInPlaceLeavesTheOriginal() {
        var original = plainFlow()
        original.webSocketMessages = [message]
        var copy = original
        copy.webSocketMessages.append(message)
        copy.error = RecordedError(kind: "reset", message: "")
        copy.extensions["k"] = .integer(1)
        XCTAssertEqual(original.webSocketMessages, [message])
        XCTAssertNil(original.error)
        XCTAssertEqual(original.extensions, [:])
        XCTAssertEqual(copy.webSocketMessages, [message, message])

        original.grpcMessages.append(grpc)
        XCTAssertEqual(copy.grpcMessages, [])
        XCTAssertNotEqual(original, copy)

        // A copy of a flow with none of them set, changed, leaves its original empty.
        let plain = plainFlow()
        var changed = plain
        changed.http2Resets.append(CapturedHTTP2Reset(fromClient: false, errorCode: 2, time: Timestamp(microseconds: 5)))
        XCTAssertEqual(plain.http2Resets, [])
        XCTAssertEqual(changed.http2Resets.count, 1)
    }

    /// Equality is field by field: a field set and emptied again equals one never set,
    /// and flows that differ in any one of these fields are not equal.
    func testEqualityIsFieldByField() {
        let plain = plainFlow()
        var emptiedAgain = plain
        emptiedAgain.error = RecordedError(kind: "x", message: "y")
        emptiedAgain.error = nil
        emptiedAgain.webSocketMessages.append(message)
        emptiedAgain.webSocketMessages.removeAll()
        XCTAssertEqual(emptiedAgain, plain)
        XCTAssertEqual(plain, emptiedAgain)

        var changes: [(inout CapturedFlow) -> Void] = []
        changes.append { $0.requestTrailers = HTTPHeaders() }
        changes.append { $0.responseTrailers = HTTPHeaders() }
        changes.append { $0.interimResponses = [HTTPResponseHead(status: 100)] }
        changes.append { $0.http2Resets = [CapturedHTTP2Reset(fromClient: true, errorCode: 0, time: Timestamp(microseconds: 1))] }
        changes.append { [message] in $0.webSocketMessages = [message] }
        changes.append { [grpc] in $0.grpcMessages = [grpc] }
        changes.append { $0.error = RecordedError(kind: "k", message: "") }
        changes.append { $0.extensions = ["e": .bool(true)] }
        for (number, change) in changes.enumerated() {
            var flow = plain
            change(&flow)
            XCTAssertNotEqual(flow, plain, "change \(number)")
            XCTAssertNotEqual(plain, flow, "change \(number)")
            var same = plain
            change(&same)
            XCTAssertEqual(flow, same, "change \(number), made twice")
        }
    }
}
