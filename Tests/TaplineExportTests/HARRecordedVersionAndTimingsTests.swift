import TaplineCapture
@testable import TaplineExport
import TaplineWire
import XCTest

/// What `tapline show` asks `HARRecordedEntry` about an imported flow: the recorded
/// `httpVersion` strings and `timings` phases, which the capture's events hold only
/// parsed (HTTP/1.1 for `spdy`) or rebuilt as moments (`blocked` folded into the send).
final class HARRecordedVersionAndTimingsTests: XCTestCase {
    /// Imports one HAR holding `entries` (JSON text of the array's members) and returns its flows.
    private func importedFlows(_ entries: String) throws -> [CapturedFlow] {
        let root = ExportTestSupport.temporaryDirectory()
        let path = root + "/in.har"
        try #"{"log":{"version":"1.2","creator":{"name":"t","version":"1"},"entries":["#.appending(entries).appending("]}}")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let imported = try HARImporter(path: path).run(root: root, taplineVersion: "test")
        let session = try CapturedSession.open(directory: imported.directory)
        XCTAssertEqual(session.warnings, [])
        return session.flows
    }

    private func entry(requestVersion: String, responseVersion: String, timings: String) -> String {
        #"""
        {"startedDateTime":"2024-01-01T00:00:00.000Z","time":3,
         "request":{"method":"GET","url":"https://a.example/x","httpVersion":"\#(requestVersion)","cookies":[],"headers":[],
           "queryString":[],"headersSize":-1,"bodySize":0},
         "response":{"status":200,"statusText":"OK","httpVersion":"\#(responseVersion)","cookies":[],"headers":[],
           "content":{"size":0,"mimeType":"text/plain"},"redirectURL":"","headersSize":-1,"bodySize":0},
         "cache":{},"timings":\#(timings)}
        """#
    }

    func testRecordedHTTPVersionIsTheStringAsWrittenNotTheParsedVersion() throws {
        let flows = try importedFlows(entry(requestVersion: "spdy", responseVersion: "quic/1+spdy/3",
                                            timings: #"{"send":0,"wait":1,"receive":1}"#) + ","
                                      + entry(requestVersion: "", responseVersion: "h3", timings: "{}"))
        XCTAssertEqual(flows.count, 2)
        XCTAssertEqual(flows[0].request?.version, .http1_1, "the import parses an unknown spelling to HTTP/1.1")
        let first = try XCTUnwrap(HARRecordedEntry(flow: flows[0]))
        XCTAssertEqual(first.recordedHTTPVersion(response: false), "spdy")
        XCTAssertEqual(first.recordedHTTPVersion(response: true), "quic/1+spdy/3")
        let second = try XCTUnwrap(HARRecordedEntry(flow: flows[1]))
        XCTAssertEqual(second.recordedHTTPVersion(response: false), "", "an empty recorded version stays empty, not a guess")
        XCTAssertEqual(second.recordedHTTPVersion(response: true), "h3")
    }

    func testRecordedHTTPVersionIsNilWhenTheEntryHadNoString() {
        let recorded = HARRecordedEntry(importing: .object([JSONMember("request", .object([JSONMember("httpVersion", .null)]))]))
        XCTAssertNil(recorded.recordedHTTPVersion(response: false))
        XCTAssertNil(recorded.recordedHTTPVersion(response: true))
    }

    func testRecordedTimingsKeepBlockedAndMinusOneAsWritten() throws {
        let flows = try importedFlows(entry(requestVersion: "spdy", responseVersion: "spdy", timings: #"""
            {"blocked":12.5,"dns":-1,"connect":-1,"send":0.25,"wait":30.75,"receive":"1.5","_queued":9}
            """#))
        let timings = try XCTUnwrap(HARRecordedEntry(flow: flows[0])?.recordedTimings)
        XCTAssertEqual(timings.blocked, 12.5)
        XCTAssertEqual(timings.dns, -1, "-1 (does not apply) is kept, not turned into 0")
        XCTAssertEqual(timings.connect, -1)
        XCTAssertNil(timings.ssl, "not recorded")
        XCTAssertEqual(timings.send, 0.25, "blocked is not folded into send")
        XCTAssertEqual(timings.wait, 30.75)
        XCTAssertEqual(timings.receive, 1.5, "a numeric string is read as the importer reads it")
        XCTAssertEqual(timings.recordedPhases.map(\.name), ["blocked", "dns", "connect", "send", "wait", "receive"])
        XCTAssertEqual(timings.recordedPhases.map(\.milliseconds), [12.5, -1, -1, 0.25, 30.75, 1.5])
    }

    func testRecordedTimingsAreNilWithoutATimingsObject() throws {
        XCTAssertNil(HARRecordedEntry(importing: .object([])).recordedTimings)
        XCTAssertNil(HARRecordedEntry(importing: .object([JSONMember("timings", .array([]))])).recordedTimings)
        let empty = try XCTUnwrap(HARRecordedEntry(importing: .object([JSONMember("timings", .object([]))])).recordedTimings)
        XCTAssertTrue(empty.recordedPhases.isEmpty, "Firefox's `timings: {}` recorded no phase")
    }
}
