import TaplineCapture
import TaplineExport
import XCTest
import TaplineWire

final class PostmanExporterTests: XCTestCase {
    private func sample() throws -> CapturedSession {
        let json = [("Content-Type", "application/json")]
        return try ExportTestSupport.session(root: ExportTestSupport.temporaryDirectory(), [
            TestExchange(method: "GET", target: "/v1/users/42?sort=name&api_key=k-secret-123",
                         requestHeaders: [("Authorization", "Basic YWRhOnB3LXNlY3JldA==")],
                         status: 200, responseHeaders: json, responseBody: Array(#"{"id":42,"token":"t-abcdef"}"#.utf8)),
            TestExchange(method: "GET", target: "/v1/users/43?sort=age", status: 404, responseHeaders: json,
                         responseBody: Array(#"{"error":"x"}"#.utf8)),
            TestExchange(method: "POST", target: "/v1/forms", requestHeaders: [("Content-Type", "application/x-www-form-urlencoded")],
                         requestBody: Array("a=1&password=pw-secret-9".utf8), status: 201),
            TestExchange(method: "PUT", target: "/v1/blob", requestHeaders: [("Content-Type", "application/octet-stream")],
                         requestBody: [0, 1, 2, 255], status: 204),
            TestExchange(method: "GET", target: "/logo.png", status: 200, responseHeaders: [("Content-Type", "image/png")],
                         responseBody: [0x89, 0x50]),
        ])
    }

    func testDeterministicStructureAndRedaction() throws {
        let session = try sample()
        var options = PostmanExportOptions()
        options.binaryDirectory = "c.files"
        let exporter = PostmanExporter(options: options)
        let first = try exporter.export([(session.id, session.flows)])
        let second = try exporter.export([(session.id, session.flows)])
        XCTAssertEqual(first.text, second.text)
        XCTAssertEqual(first.endpointCount, 3)
        for secret in ["k-secret-123", "pw-secret-9", "t-abcdef", "YWRhOnB3LXNlY3JldA==", "pw-secret"] {
            XCTAssertFalse(first.text.contains(secret), secret)
        }
        XCTAssertEqual(first.files.count, 1)
        XCTAssertEqual(first.files.values.first, [0, 1, 2, 255])
        let collection = try JSONParser.parse(first.text)
        let host = collection["item"]?.arrayValue?.first
        XCTAssertEqual(host?["name"]?.stringValue, "api.example.com")
        // The shared `v1` names no folder (issue #21, item 16).
        XCTAssertEqual(host?["item"]?.arrayValue?.map { $0["name"]?.stringValue }, ["users", "forms", "blob"])
        let users = host?["item"]?.arrayValue?.first?["item"]?.arrayValue?.first
        XCTAssertEqual(users?["name"]?.stringValue, "GET /v1/users/:userId")
        XCTAssertEqual(users?["request"]?["auth"]?["type"]?.stringValue, "basic")
        XCTAssertEqual(users?["response"]?.arrayValue?.count, 2)
        XCTAssertTrue(first.secretVariables.contains("username") && first.secretVariables.contains("apiKey"))
    }

    func testNoBinaryAndKeepSecrets() throws {
        let session = try sample()
        var options = PostmanExportOptions()
        options.redact = false
        options.includeStatic = true
        let export = try PostmanExporter(options: options).export([(session.id, session.flows)])
        XCTAssertTrue(export.text.contains("k-secret-123"))
        XCTAssertTrue(export.text.contains("--no-binary"))
        XCTAssertEqual(export.endpointCount, 4)
        XCTAssertTrue(export.files.isEmpty)
    }

    /// Issue #21, item 18: Postman builds a formdata body with its own boundary, so the
    /// captured Content-Type goes; a pretty-printed example drops its stale Content-Length.
    func testStructuredBodiesAndRewrittenExamplesDropStaleFraming() throws {
        let boundary = "----tapline-test-boundary"
        let multipart = Array(("--\(boundary)\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nreport\r\n"
            + "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n"
            + "Content-Type: text/csv\r\n\r\na,b\r\n--\(boundary)--\r\n").utf8)
        let compact = Array(#"{"ok":true,"n":[1,2]}"#.utf8)
        let plain = Array("plain text".utf8)
        let session = try ExportTestSupport.session(root: ExportTestSupport.temporaryDirectory(), [
            TestExchange(method: "POST", target: "/upload",
                         requestHeaders: [("Content-Type", "multipart/form-data; boundary=\(boundary)"),
                                          ("Content-Length", "\(multipart.count)"), ("X-Trace", "t1")],
                         requestBody: multipart, status: 201,
                         responseHeaders: [("Content-Type", "application/json"), ("Content-Length", "\(compact.count)")],
                         responseBody: compact),
            TestExchange(method: "GET", target: "/note", status: 200,
                         responseHeaders: [("Content-Type", "text/plain"), ("Content-Length", "\(plain.count)")],
                         responseBody: plain),
        ])
        var options = PostmanExportOptions()
        options.grouping = .none
        let collection = try JSONParser.parse(PostmanExporter(options: options).export([(session.id, session.flows)]).text)
        func headerNames(_ value: JSONValue?) -> [String] {
            value?.arrayValue?.compactMap { $0["key"]?.stringValue } ?? []
        }
        let upload = collection["item"]?.arrayValue?.first
        XCTAssertEqual(upload?["request"]?["body"]?["mode"]?.stringValue, "formdata")
        XCTAssertEqual(headerNames(upload?["request"]?["header"]), ["X-Trace"])
        let example = upload?["response"]?.arrayValue?.first
        XCTAssertEqual(headerNames(example?["originalRequest"]?["header"]), ["X-Trace"])
        XCTAssertNotEqual(example?["body"]?.stringValue.map { Array($0.utf8) }, compact)
        XCTAssertEqual(headerNames(example?["header"]), ["Content-Type"])
        // A body shown exactly as received keeps its Content-Length.
        let note = collection["item"]?.arrayValue?.last?["response"]?.arrayValue?.first
        XCTAssertEqual(note?["body"]?.stringValue, "plain text")
        XCTAssertEqual(headerNames(note?["header"]), ["Content-Type", "Content-Length"])
    }

    /// Two slugs answered with JSON objects, then a second `/items/blue` whose response body
    /// is in a segment the session lacks (a damaged capture). Classifying the requests for
    /// the path-variable rule does not read that body into the export's fate: the export
    /// succeeds, the damaged request counts as one of its flows and shows no body of its own.
    func testAResponseBodyThatCannotBeReadIsAnUnknownKindAndTheExportGoesOn() throws {
        let json = [("Content-Type", "application/json")]
        let session = try ExportTestSupport.session(root: ExportTestSupport.temporaryDirectory(), [
            TestExchange(method: "GET", target: "/items/red", status: 200, responseHeaders: json,
                         responseBody: Array(#"{"id":1,"name":"red"}"#.utf8)),
            TestExchange(method: "GET", target: "/items/blue", status: 200, responseHeaders: json,
                         responseBody: Array(#"{"id":2,"name":"blue"}"#.utf8)),
            TestExchange(method: "GET", target: "/items/blue", status: 200, responseHeaders: json,
                         responseBody: Array(#"{"id":2,"name":"blue, again"}"#.utf8)),
        ])
        var flows = session.flows
        flows[2].responseBody.extents = [BodyExtent(segment: 999, offset: 0, length: flows[2].responseBody.capturedBytes)]
        XCTAssertThrowsError(try flows[2].responseBody.bodyData(limit: 64), "the body must be unreadable")
        var options = PostmanExportOptions()
        options.grouping = .none
        options.cardinalityThreshold = 2
        let export = try PostmanExporter(options: options).export([(session.id, flows)])
        XCTAssertEqual(export.flowCount, 3)
        XCTAssertEqual(export.endpointCount, 1, "red and blue, both read, are siblings")
        let item = try JSONParser.parse(export.text)["item"]?.arrayValue?.first
        XCTAssertEqual(item?["name"]?.stringValue, "GET /items/:itemId")
        let examples = item?["response"]?.arrayValue ?? []
        XCTAssertEqual(examples.count, 1, "one example per status, from the first flow")
        let body = try JSONParser.parse(examples.first?["body"]?.stringValue ?? "")
        XCTAssertEqual(body["name"]?.stringValue, "red")
        XCTAssertFalse(export.text.contains("blue, again"))
    }

    /// JSON bodies over `ResponseKind.bodyLimit` are classified by status class and media
    /// type only: their top-level keys are not read, so two large objects with different
    /// keys are siblings (two small ones with those keys are not).
    func testLargeJSONBodiesAreClassifiedWithoutTheirKeys() throws {
        let json = [("Content-Type", "application/json")]
        let padding = String(repeating: "x", count: ResponseKind.bodyLimit)
        func exchanges(_ pad: String) -> [TestExchange] {
            [TestExchange(method: "GET", target: "/items/red", status: 200, responseHeaders: json,
                          responseBody: Array(#"{"id":1,"name":"red","pad":"\#(pad)"}"#.utf8)),
             TestExchange(method: "GET", target: "/items/blue", status: 200, responseHeaders: json,
                          responseBody: Array(#"{"id":2,"title":"blue","pad":"\#(pad)"}"#.utf8))]
        }
        var options = PostmanExportOptions()
        options.cardinalityThreshold = 2
        let exporter = PostmanExporter(options: options)
        let large = try ExportTestSupport.session(root: ExportTestSupport.temporaryDirectory(), exchanges(padding))
        XCTAssertGreaterThan(large.flows[0].responseBody.capturedBytes, UInt64(ResponseKind.bodyLimit))
        XCTAssertEqual(try exporter.export([(large.id, large.flows)]).endpointCount, 1)
        let small = try ExportTestSupport.session(root: ExportTestSupport.temporaryDirectory(), exchanges("x"))
        XCTAssertEqual(try exporter.export([(small.id, small.flows)]).endpointCount, 2, "different keys, different kinds")
    }
}
