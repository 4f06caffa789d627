import TaplineExport
import TaplineTLS
import TaplineWire
import XCTest
@testable import TaplineReplay

/// `MockLiveRequestBody`: held whole up to `MockSessionLoader.requestBodyLimit` (and then
/// compared as `MockRequest` compares any body), past it only its size and digest, the
/// form a recorded body of that size is loaded in.
final class MockLiveRequestBodyTests: XCTestCase {
    private let limit = MockSessionLoader.requestBodyLimit
    private let headers = HTTPHeaders([(name: "Content-Type", value: "application/octet-stream")])

    private func pattern(_ count: Int, seed: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9 &+ seed) }
    }

    func testABodyOfExactlyTheLimitIsHeldAndComparedAsAnyBody() {
        let bytes = pattern(limit, seed: 1)
        var body = MockLiveRequestBody()
        body.append(bytes[..<1000])
        body.append(bytes[1000...])
        XCTAssertTrue(body.isHeld)
        XCTAssertEqual(body.bytes, bytes)
        XCTAssertEqual(body.compared(target: "/upload", headers: headers, grpcDecoder: GRPCCallDecoder(schema: nil)),
                       MockRequest.comparedBody(bytes, target: "/upload", headers: headers, grpcDecoder: GRPCCallDecoder(schema: nil)))
    }

    func testABodyPastTheLimitKeepsOnlyItsSizeAndDigest() {
        let bytes = pattern(limit + 5000, seed: 2)
        var body = MockLiveRequestBody()
        // Pieces that cross the limit inside one piece, after a piece that ends just short of it.
        body.append(bytes[..<(limit - 10)])
        body.append(bytes[(limit - 10)..<(limit + 100)])
        body.append(bytes[(limit + 100)...])
        XCTAssertFalse(body.isHeld)
        XCTAssertTrue(body.bytes.isEmpty, "nothing is held past the limit")
        XCTAssertEqual(body.count, bytes.count)
        XCTAssertEqual(body.compared(target: "/upload", headers: headers, grpcDecoder: GRPCCallDecoder(schema: nil)),
                       .bytes(sha256: SHA256Digest.hex(bytes), count: bytes.count))
    }

    func testAJSONBodyPastTheLimitIsComparedByItsBytesNotStructurally() {
        var json = Array(#"{"items":["#.utf8)
        while json.count <= limit { json += Array(#""abcdefghijklmnop","#.utf8) }
        json += Array(#""end"]}"#.utf8)
        var body = MockLiveRequestBody()
        body.append(json[...])
        let jsonHeaders = HTTPHeaders([(name: "Content-Type", value: "application/json")])
        XCTAssertEqual(body.compared(target: "/upload", headers: jsonHeaders, grpcDecoder: GRPCCallDecoder(schema: nil)),
                       .bytes(sha256: SHA256Digest.hex(json), count: json.count))
    }
}
