import Foundation
import TaplineCapture
import TaplineFlow
import XCTest

/// `extension` lines (docs/capture-format.md, "Extensions"): written by `recordExtension`,
/// read back per flow and per session, last value of a name winning.
final class CaptureExtensionTests: XCTestCase {
    func testExtensionsAreReadBackPerFlowAndPerSession() throws {
        let root = NSTemporaryDirectory() + "tapline-extension-" + UUID().uuidString
        let writer = try CaptureWriter(root: root)
        let t = Timestamp(microseconds: 1_790_000_000_000_000)
        let value = try CaptureJSONParser.parse(Array(#"{"pages":[{"id":"p","n":1.5}],"_x":null}"#.utf8))
        writer.recordExtension(name: "har", value: value, flow: nil, time: t)
        writer.record(.connectionOpened(connection: ConnectionID(1), client: "c", listener: "l", time: t))
        writer.record(.flowStarted(flow: FlowID(1), connection: ConnectionID(1), kind: .http, scheme: "http",
                                   authority: "a:80", time: t))
        writer.recordExtension(name: "har", value: .string("first"), flow: FlowID(1), time: t)
        writer.recordExtension(name: "har", value: .array([.integer(7)]), flow: FlowID(1), time: t)
        writer.recordExtension(name: "other", value: .bool(true), flow: FlowID(2), time: t)
        writer.close()

        let session = try CapturedSession.open(directory: writer.directory)
        XCTAssertEqual(session.extensions, ["har": value])
        XCTAssertEqual(session.flows.first?.extensions, ["har": .array([.integer(7)])])
        XCTAssertEqual(session.warnings, ["events.jsonl:6: flow 2 was never started; line skipped"])
    }
}
