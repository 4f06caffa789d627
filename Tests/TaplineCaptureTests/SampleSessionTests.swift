import Foundation
import XCTest
import TaplineFlow
@testable import TaplineCapture

/// The sessions committed in captures/samples/ were written by an earlier
/// tapline: today's reader must still read them exactly (format v1 compatibility).
final class SampleSessionTests: XCTestCase {
    private var samples: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../captures/samples").standardized
    }

    func testHTTP1SampleReadsBackCompletely() throws {
        let session = try CapturedSession.open(directory: samples.appendingPathComponent("20261126-162657-8bc7").path)
        XCTAssertEqual(session.warnings, [])
        XCTAssertEqual(session.flows.count, 7)
        let methodsAndTargets = session.flows.map { "\($0.request?.method ?? "-") \($0.response?.status ?? 0)" }
        XCTAssertEqual(methodsAndTargets, ["GET 200", "GET 200", "POST 200", "POST 200", "GET 200", "GET 404", "GET 0"])

        let users = session.flows[0]
        XCTAssertEqual(String(decoding: try users.responseBody.bodyData(limit: 1 << 20), as: UTF8.self),
                       #"{"id": 1, "name": "User 1", "email": "user1@example.test"}"#)
        XCTAssertTrue(session.flows[1].upstreamReused, "second request reused the keep-alive upstream")

        let chunkedUpload = session.flows[3]
        XCTAssertEqual(chunkedUpload.request?.headers.first(name: "Transfer-Encoding"), "chunked")
        XCTAssertEqual(try chunkedUpload.requestBody.bodyData(limit: 1 << 20), Array("hello chunked world".utf8))

        let chunkedDownload = session.flows[4]
        XCTAssertEqual(try chunkedDownload.responseBody.bodyData(limit: 1 << 20).count, 3000)
        XCTAssertNotNil(chunkedDownload.responseTrailers?.first(name: "X-Body-Sha256"))

        let unreachable = session.flows[6]
        XCTAssertEqual(unreachable.error?.kind, FlowErrorKind.upstreamUnreachable.rawValue)
    }
}
