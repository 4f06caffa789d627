import TaplineWire
import XCTest
@testable import TaplineReplay

/// `MockRequestMatcher`: what matches (method, path, query multiset, body structurally,
/// --match-header), the ignore rules, the strongest match, and the near-miss reasons.
final class MockRequestMatcherTests: XCTestCase {
    private let json = [("Content-Type", "application/json")]

    private func request(_ method: String, _ target: String, headers: [(String, String)] = [],
                         body: String = "") -> MockRequest {
        MockRequest(method: method, target: target, headers: HTTPHeaders(headers.map { (name: $0.0, value: $0.1) }),
                    body: Array(body.utf8))
    }

    func testQueryIsAMultisetAndJSONBodiesCompareStructurally() throws {
        let fixture = try MockRecordingFixture()
        let recordings = [
            try fixture.recording("GET", "/items?a=1&b=2&a=3"),
            try fixture.recording("POST", "/search", requestHeaders: json, requestBody: Array(#"{"q":"x","page":1}"#.utf8)),
        ]
        let matcher = MockRequestMatcher()
        XCTAssertEqual(matcher.matches(request("GET", "/items?b=2&a=3&a=1"), in: recordings), [0], "order does not count")
        XCTAssertEqual(matcher.matches(request("GET", "/items?a=1&b=2"), in: recordings), [], "a repeat counts")
        XCTAssertEqual(matcher.matches(request("GET", "http://origin.test/items?a=3&a=1&b=2"), in: recordings), [0],
                       "absolute-form targets match on their path and query")
        XCTAssertEqual(matcher.matches(request("POST", "/search", headers: json, body: #"{ "page": 1.0, "q": "x" }"#),
                                       in: recordings), [1], "member order, whitespace and number spelling do not count")
        XCTAssertEqual(matcher.matches(request("PUT", "/search", headers: json, body: #"{"q":"x","page":1}"#),
                                       in: recordings), [], "the method counts")
    }

    func testFormsMatchAsFieldSetsAndHeadersOnlyWhenNamed() throws {
        let fixture = try MockRecordingFixture()
        let form = [("Content-Type", "application/x-www-form-urlencoded"), ("X-Tenant", "a")]
        let recordings = [try fixture.recording("POST", "/login", requestHeaders: form, requestBody: Array("user=ann&pw=1".utf8))]
        let other = [("Content-Type", "application/x-www-form-urlencoded"), ("X-Tenant", "b")]
        XCTAssertEqual(MockRequestMatcher().matches(request("POST", "/login", headers: other, body: "pw=1&user=ann"),
                                                    in: recordings), [0])
        let byTenant = MockRequestMatcher(rules: MockMatchRules(matchedHeaders: ["x-tenant"]))
        XCTAssertEqual(byTenant.matches(request("POST", "/login", headers: other, body: "pw=1&user=ann"), in: recordings), [])
        XCTAssertEqual(byTenant.mismatches(request("POST", "/login", headers: other, body: "pw=1&user=ann"), recordings[0].request),
                       [MockMismatch(field: "header x-tenant", recorded: "a", received: "b")])
    }

    func testIgnoreRulesLoosenMatchingAndTheExactOneIsTheStrongest() throws {
        let fixture = try MockRecordingFixture()
        let recordings = [
            try fixture.recording("GET", "/feed?page=1&ts=100"),
            try fixture.recording("GET", "/feed?page=1&ts=200"),
            try fixture.recording("POST", "/event", requestHeaders: json, requestBody: Array(#"{"kind":"a","at":1}"#.utf8)),
        ]
        let matcher = MockRequestMatcher(rules: MockMatchRules(ignoredQueryNames: ["ts"],
                                                               ignoredBodyPaths: [try XCTUnwrap(JSONPointerPattern("/at"))]))
        XCTAssertEqual(matcher.matches(request("GET", "/feed?page=1&ts=999"), in: recordings), [0, 1],
                       "both match once ts is ignored: one sequence, in recorded order")
        XCTAssertEqual(matcher.matches(request("GET", "/feed?ts=200&page=1"), in: recordings), [1],
                       "the one equal in the ignored parameter too is the strongest")
        XCTAssertEqual(matcher.matches(request("POST", "/event", headers: json, body: #"{"kind":"a","at":7}"#), in: recordings), [2])
        XCTAssertEqual(MockRequestMatcher().matches(request("GET", "/feed?page=1&ts=999"), in: recordings), [])
    }

    func testNearMissesAreRankedAndSayWhatDiffers() throws {
        let fixture = try MockRecordingFixture()
        let recordings = [
            try fixture.recording("GET", "/other"),
            try fixture.recording("POST", "/search", requestHeaders: json, requestBody: Array(#"{"q":"x","page":1}"#.utf8)),
            try fixture.recording("GET", "/search?q=x"),
        ]
        let misses = MockRequestMatcher().nearMisses(request("POST", "/search", headers: json, body: #"{"q":"y","page":1}"#),
                                                     in: recordings, limit: 2)
        XCTAssertEqual(misses.map(\.index), [1, 2], "closest first: only the body differs, then method and query")
        XCTAssertEqual(misses[0].mismatches.map(\.field), ["body"])
        XCTAssertTrue(misses[0].mismatches[0].received.contains("/q (changed)"), misses[0].mismatches[0].received)
        XCTAssertEqual(misses[1].mismatches.map(\.field), ["method", "query", "body"])
        XCTAssertEqual(misses[1].mismatches[1], MockMismatch(field: "query", recorded: "q=x", received: ""))
    }

    func testOfEquallyDistantNearMissesTheLongerSharedPathIsCloser() throws {
        let fixture = try MockRecordingFixture()
        let recordings = [try fixture.recording("GET", "/api/users"), try fixture.recording("GET", "/blob")]
        XCTAssertEqual(MockRequestMatcher().nearMisses(request("GET", "/blobs"), in: recordings).map(\.index), [1, 0])
    }

    func testAGzippedRequestBodyIsComparedDecoded() throws {
        let fixture = try MockRecordingFixture()
        let recordings = [try fixture.recording("POST", "/upload", requestHeaders: json, requestBody: Array(#"{"a":1}"#.utf8))]
        // gzip of {"a": 1} (made with Python's gzip.compress(b'{"a": 1}', mtime=0))
        let gzipped: [UInt8] = [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xab, 0x56, 0x4a, 0x54, 0xb2,
                                0x52, 0x30, 0xac, 0x05, 0x00, 0x97, 0x8e, 0xa1, 0xfb, 0x08, 0x00, 0x00, 0x00]
        let live = MockRequest(method: "POST", target: "/upload",
                               headers: HTTPHeaders([(name: "Content-Type", value: "application/json"),
                                                     (name: "Content-Encoding", value: "gzip")]), body: gzipped)
        XCTAssertEqual(MockRequestMatcher().matches(live, in: recordings), [0])
    }

    func testSequenceModes() {
        XCTAssertEqual((0..<5).map { MockSequenceMode.last.responseIndex(served: $0, count: 3) }, [0, 1, 2, 2, 2])
        XCTAssertEqual((0..<5).map { MockSequenceMode.loop.responseIndex(served: $0, count: 3) }, [0, 1, 2, 0, 1])
        XCTAssertEqual((0..<5).map { MockSequenceMode.strict.responseIndex(served: $0, count: 3) }, [0, 1, 2, nil, nil])
    }
}
