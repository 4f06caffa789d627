import TaplineCapture
@testable import TaplineCLI
import TaplineExport
import XCTest

/// `CapturedFlow.contentCodings`, the export layer's reading of `Content-Encoding` that
/// `tapline show` only formats (the CLI parses no protocol header).
final class ContentCodingsTests: XCTestCase {
    func testEveryContentEncodingFieldCountsInOrderAndIdentityIsNoCoding() throws {
        let session = try ExportTestSupport.session(root: ExportTestSupport.temporaryDirectory(), [
            TestExchange(method: "GET", target: "/twice", status: 200,
                         responseHeaders: [("Content-Encoding", " GZIP "), ("Content-Encoding", "br")], responseBody: [1, 2]),
            TestExchange(method: "GET", target: "/identity", status: 200,
                         responseHeaders: [("Content-Encoding", "identity")], responseBody: [3]),
        ])
        let twice = session.flows[0], identity = session.flows[1]
        XCTAssertEqual(twice.contentCodings(.response), ["gzip", "br"], "two fields are one list (RFC 9110 §5.3)")
        XCTAssertEqual(twice.contentCodings(.request), [])
        XCTAssertEqual(identity.contentCodings(.response), [])
        XCTAssertEqual(FlowSummaryText.contentEncoding(twice, .response), "gzip, br")
        XCTAssertNil(FlowSummaryText.contentEncoding(identity, .response))
    }
}
