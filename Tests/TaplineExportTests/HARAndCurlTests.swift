import Foundation
import TaplineCapture
import TaplineExport
import TaplineFlow
import XCTest
import TaplineWire

final class HARAndCurlTests: XCTestCase {
    func testHARExportImportExportIsStable() throws {
        let root = ExportTestSupport.temporaryDirectory()
        let session = try ExportTestSupport.session(root: root, [
            TestExchange(method: "POST", target: "/a?x=1",
                         requestHeaders: [("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", "s=1; t=2")],
                         requestBody: Array("k=v&n=%20m".utf8), status: 200,
                         responseHeaders: [("Set-Cookie", "id=9; Path=/; HttpOnly")], responseBody: Array("hello".utf8)),
        ])
        let first = root + "/one.har"
        try write(session, to: first)
        let har = try JSONParser.parse(String(contentsOfFile: first, encoding: .utf8))
        let entry = har["log"]?["entries"]?.arrayValue?.first
        XCTAssertEqual(entry?["request"]?["postData"]?["params"]?.arrayValue?.count, 2)
        XCTAssertEqual(entry?["request"]?["cookies"]?.arrayValue?.count, 2)
        XCTAssertEqual(entry?["response"]?["cookies"]?.arrayValue?.first?["httpOnly"], .bool(true))
        XCTAssertEqual(entry?["serverIPAddress"]?.stringValue, "93.184.216.34")
        XCTAssertEqual(entry?["timings"]?["dns"], .number("0.1"))
        XCTAssertEqual(entry?["timings"]?["ssl"], .number("-1"))

        let imported = try HARImporter(path: first).run(root: root, taplineVersion: "test")
        let again = try CapturedSession.open(directory: imported.directory)
        let second = root + "/two.har"
        try write(again, to: second)
        let a = try JSONParser.parse(String(contentsOfFile: first, encoding: .utf8))["log"]?["entries"]
        let b = try JSONParser.parse(String(contentsOfFile: second, encoding: .utf8))["log"]?["entries"]
        XCTAssertEqual(a, b)
    }

    func testImportErrorsNameTheEntryAndField() throws {
        let root = ExportTestSupport.temporaryDirectory()
        let path = root + "/bad.har"
        try #"{"log":{"entries":[{"startedDateTime":"2024-01-01T00:00:00-07:00","request":{"method":"GET","url":"http://a/","headers":[{"name":"x"}]},"response":{"status":200}}]}}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try HARImporter(path: path).run(root: root, taplineVersion: "t")) { error in
            XCTAssertTrue("\(error)".contains("log.entries[0].request.headers[0].value"), "\(error)")
        }
    }

    func testTimesParseOffsetsAndFractions() {
        XCTAssertEqual(HARTime.parse("2024-01-01T00:00:00.5-07:00")?.microseconds, 1_704_092_400_500_000)
        XCTAssertEqual(HARTime.parse("2024-01-01T00:00:00.123456+00:00").map(HARTime.format), "2024-01-01T00:00:00.123456Z")
        XCTAssertNil(HARTime.parse("yesterday"))
    }

    func testCurlQuoting() throws {
        XCTAssertEqual(CurlCommand.quote("plain-word"), "plain-word")
        XCTAssertEqual(CurlCommand.quote("it's $HOME"), #"'it'\''s $HOME'"#)
        let session = try ExportTestSupport.session(root: ExportTestSupport.temporaryDirectory(), [
            TestExchange(method: "POST", target: "/q", requestHeaders: [("Content-Type", "text/plain")],
                         requestBody: Array("a'b".utf8), status: 200),
        ])
        let command = try XCTUnwrap(try CurlCommand.make(session.flows[0]))
        XCTAssertTrue(command.contains(#"--data-binary 'a'\''b'"#), command)
        XCTAssertTrue(command.hasSuffix("http://api.example.com/q"), command)
    }

    func testFilterGrammar() throws {
        let session = try ExportTestSupport.session(root: ExportTestSupport.temporaryDirectory(), [
            TestExchange(method: "GET", target: "/v1/users/1", status: 200, responseHeaders: [("Content-Type", "application/json")]),
            TestExchange(method: "POST", target: "/v1/users", status: 404),
        ])
        func ids(_ expression: String) throws -> [UInt64] {
            let filter = try FlowFilter.parse(expression)
            return session.flows.filter(filter.matches).map(\.id.rawValue)
        }
        XCTAssertEqual(try ids("method:GET"), [1])
        XCTAssertEqual(try ids("status:4xx"), [2])
        XCTAssertEqual(try ids("!status:400-499 path:/v1/**"), [1])
        XCTAssertEqual(try ids("path:/v1/*"), [2])
        XCTAssertEqual(try ids("host:*.example.com type:json"), [1])
        XCTAssertEqual(try ids("flow:1-2 method:get,post"), [1, 2])
        XCTAssertThrowsError(try FlowFilter.parse("colour:red"))
        XCTAssertThrowsError(try FlowFilter.parse("status:abc"))
    }

    private func write(_ session: CapturedSession, to path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        defer { close(descriptor) }
        try HARExporter(creatorVersion: "test").write(session.flows, comment: "c", to: descriptor, path: path)
    }
}
