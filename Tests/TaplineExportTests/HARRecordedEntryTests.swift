import Foundation
import Glibc
import TaplineCapture
@testable import TaplineExport
import TaplineFlow
import XCTest
import TaplineWire

/// HAR import -> export fidelity (issue #21, items 9-14): what `HARRecordedEntry` keeps and
/// how it is laid over the built entry, the capture's `extension` lines that carry it, and
/// how bodies are written.
final class HARRecordedEntryTests: XCTestCase {
    func testRecordedValuesWinAndInvalidOnesLeaveTheComputedValue() throws {
        let computed = try JSONParser.parse(#"""
            {"startedDateTime":"2024-01-01T00:00:00.000Z","time":20,"request":{"method":"GET","url":"https://a/?q=a%20b",
             "httpVersion":"HTTP/1.1","cookies":[],"headers":[],"queryString":[{"name":"q","value":"a b"}],"headersSize":80,"bodySize":0},
             "response":{"status":200,"statusText":"OK","httpVersion":"HTTP/1.1","cookies":[],"headers":[],
             "content":{"size":0,"compression":0,"mimeType":"text/html; charset=utf-8"},"redirectURL":"","headersSize":90,"bodySize":0},
             "cache":{},"timings":{"blocked":0,"dns":-1,"connect":-1,"send":12,"wait":-1,"receive":3,"ssl":-1},
             "serverIPAddress":"2606:4700::1","connection":"4","_flowId":1}
            """#)
        let entry = try JSONParser.parse(#"""
            {"pageref":"page_2","startedDateTime":"2024-01-01T01:00:00.000+01:00","time":20,"request":{"method":"GET",
             "url":"https://a/?q=a%20b","httpVersion":"spdy","headers":[],"queryString":[{"name":"q","value":"a%20b"}],
             "headersSize":null,"bodySize":0},
             "response":{"status":200,"statusText":"OK","httpVersion":"spdy","headers":[],"content":{"size":14022,"mimeType":"text/html"},
             "redirectURL":null,"bodySize":0,"_transferSize":300},
             "cache":{"afterRequest":{"expires":"x"}},"timings":{"blocked":9,"send":3,"wait":0,"receive":3,"_queued":1.5},
             "serverIPAddress":"[2606:4700::1]","_initiator":{"type":"parser"}}
            """#)
        let merged = HARRecordedEntry(importing: entry).applied(to: computed)
        XCTAssertEqual(merged["pageref"], .string("page_2"))
        XCTAssertEqual(merged["startedDateTime"], .string("2024-01-01T01:00:00.000+01:00"))
        XCTAssertEqual(merged["request"]?["httpVersion"], .string("spdy"))
        XCTAssertEqual(merged["request"]?["queryString"]?.arrayValue?.first?["value"], .string("a%20b"))
        XCTAssertEqual(merged["request"]?["headersSize"], .number("-1"), "null is not HAR: unknown, not computed from a guess")
        XCTAssertEqual(merged["response"]?["headersSize"], .number("-1"), "required and missing: unknown")
        XCTAssertEqual(merged["response"]?["content"], try JSONParser.parse(#"{"size":14022,"mimeType":"text/html"}"#))
        XCTAssertEqual(merged["response"]?["redirectURL"], .string(""))
        XCTAssertEqual(merged["response"]?["_transferSize"], .number("300"))
        XCTAssertEqual(merged["cache"], .object([]), "an afterRequest without lastAccess/eTag/hitCount is not HAR")
        XCTAssertEqual(merged["timings"], try JSONParser.parse(#"{"blocked":9,"send":3,"wait":0,"receive":3,"_queued":1.5}"#))
        XCTAssertEqual(merged["serverIPAddress"], .string("2606:4700::1"))
        XCTAssertNil(merged["connection"], "the HAR had no connection")
        XCTAssertEqual(merged["_flowId"], .number("1"))
        XCTAssertEqual(merged["_initiator"]?["type"], .string("parser"))
    }

    func testImportKeepsTheRecordingInExtensionLinesAndExportWritesItBack() throws {
        let root = ExportTestSupport.temporaryDirectory()
        let path = root + "/in.har"
        try #"""
            {"log":{"version":"1.2","creator":{"name":"t","version":"1"},"browser":{"name":"IE","version":"11"},
             "pages":[{"startedDateTime":"2024-01-01T00:00:00Z","id":"0","title":"t","pageTimings":{"onLoad":5,"_x":1}}],"_custom":[1,2],
             "entries":[{"pageref":"0","startedDateTime":"2024-01-01T00:00:00.000Z","time":3,
               "request":{"method":"GET","url":"http://a/","httpVersion":"HTTP/1.1","cookies":[],"headers":[],"queryString":[],"headersSize":10,"bodySize":0},
               "response":{"status":200,"statusText":"OK","httpVersion":"HTTP/1.1","cookies":[],"headers":[],
                 "content":{"size":3,"mimeType":"application/octet-stream","text":"AAEC","encoding":"base64"},"redirectURL":"","headersSize":20,"bodySize":3},
               "cache":{},"timings":{"blocked":1,"send":0,"wait":1,"receive":1},"serverIPAddress":"fe80::1%7"}]}}
            """#.write(toFile: path, atomically: true, encoding: .utf8)
        let imported = try HARImporter(path: path).run(root: root, taplineVersion: "test")
        let session = try CapturedSession.open(directory: imported.directory)
        XCTAssertEqual(session.warnings, [])
        XCTAssertNotNil(session.extensions["har"])
        XCTAssertEqual(session.flows.first?.serverAddress, "[fe80::1%7]:80")
        XCTAssertNotNil(session.flows.first?.extensions["har"])
        // A reader that streams flows (replay) hands each out at its flowEnded, so the
        // entry's extension line comes before it.
        var streamed: [CapturedFlow] = []
        _ = try CapturedSession.stream(directory: imported.directory) { flow, _ in streamed.append(flow) }
        XCTAssertEqual(streamed.first?.extensions["har"], session.flows.first?.extensions["har"])

        let out = root + "/out.har"
        let descriptor = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        try HARExporter(creatorVersion: "test").write(session.flows, comment: "c", session: session, to: descriptor, path: out)
        close(descriptor)
        let log = try JSONParser.parse(String(contentsOfFile: out, encoding: .utf8))["log"]
        XCTAssertEqual(log?["browser"]?["name"], .string("IE"))
        XCTAssertEqual(log?["pages"]?.arrayValue?.first?["pageTimings"]?["_x"], .number("1"))
        XCTAssertEqual(log?["_custom"], try JSONParser.parse("[1,2]"))
        let entry = log?["entries"]?.arrayValue?.first
        XCTAssertEqual(entry?["response"]?["content"]?["text"], .string("AAEC"))
        XCTAssertEqual(entry?["response"]?["content"]?["encoding"], .string("base64"))
        XCTAssertEqual(entry?["serverIPAddress"], .string("fe80::1%7"))
        XCTAssertEqual(entry?["timings"], try JSONParser.parse(#"{"blocked":1,"send":0,"wait":1,"receive":1}"#))
    }

    func testBinaryBodiesAreBase64AndACutBodySaysSo() throws {
        let root = ExportTestSupport.temporaryDirectory()
        let zeros = [UInt8](repeating: 0, count: 100)
        let session = try ExportTestSupport.session(root: root, [
            TestExchange(method: "POST", target: "/z", requestBody: zeros, status: 200, responseBody: zeros),
            TestExchange(method: "GET", target: "/t", status: 200, responseHeaders: [("Content-Type", "text/plain")],
                         responseBody: Array(String(repeating: "a", count: 100).utf8)),
        ])
        let out = root + "/out.har"
        let descriptor = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var exporter = HARExporter(creatorVersion: "test")
        exporter.bodyLimit = 40
        let result = try exporter.write(session.flows, comment: "c", to: descriptor, path: out)
        close(descriptor)
        XCTAssertEqual(result, HARExportResult(entries: 2, bodiesOverLimit: [
            "flow 1 request: body larger than 40 bytes; only the start is shown",
            "flow 1 response: body larger than 40 bytes; only the start is shown",
            "flow 2 response: body larger than 40 bytes; only the start is shown",
        ]))
        let entries = try JSONParser.parse(String(contentsOfFile: out, encoding: .utf8))["log"]?["entries"]?.arrayValue ?? []
        XCTAssertEqual(entries.count, 2)
        XCTAssertEqual(entries[0]["request"]?["postData"]?["encoding"], .string("base64"))
        XCTAssertEqual(entries[0]["response"]?["content"]?["encoding"], .string("base64"))
        let text = entries[1]["response"]?["content"]
        XCTAssertEqual(text?["text"], .string(String(repeating: "a", count: 40)))
        XCTAssertEqual(text?["size"], .number("100"), "the whole body's size, not the part shown")
        XCTAssertEqual(text?["comment"], .string("body larger than 40 bytes; only the start is shown"))
    }

    func testTextDecisionKeepsDeclaredTextAndRejectsControlBytes() {
        func body(_ bytes: [UInt8]) -> LoadedBody {
            LoadedBody(bytes: bytes, decoded: false, complete: true, wireSize: UInt64(bytes.count), note: nil)
        }
        XCTAssertNil(body([0, 0, 0]).text(declaredTextual: true))
        XCTAssertNil(body([0x41, 0x01]).text(declaredTextual: false))
        XCTAssertEqual(body([0x41, 0x1B]).text(declaredTextual: true), "A\u{1B}")
        XCTAssertEqual(body(Array("a\tb\r\n\u{0C}é".utf8)).text(declaredTextual: false), "a\tb\r\n\u{0C}é")
        XCTAssertNil(body([0xFF]).text(declaredTextual: true))
    }
}
