import TaplineHTTPClient
@testable import TaplineProxy
import TaplineWire
import XCTest

final class HTTP2HeadTranslatorTests: XCTestCase {
    private let request = HTTPHeaders([
        (":method", "GET"), (":scheme", "http"), (":authority", "proxy.local:8443"), (":path", "/a?b"),
        ("x-forwarded-for", "10.0.0.1"), ("user-agent", "t/1"), ("x-forwarded-for", "10.0.0.2"),
    ])

    func testReverseModeReplacesAuthorityAndJoinsForwardedForAtTheEnd() {
        let out = HTTP2HeadTranslator.http2Request(request, authority: "origin:80",
                                                   forwardedFor: ("127.0.0.9", "https"))
        XCTAssertEqual(out.fields.map(\.name), [":method", ":scheme", ":authority", ":path", "user-agent",
                                                "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"])
        XCTAssertEqual(out.first(name: ":authority"), "origin:80")
        XCTAssertEqual(out.fields.prefix(5).map(\.value), ["GET", "http", "origin:80", "/a?b", "t/1"],
                       "the fields around the replaced ones keep their values")
        XCTAssertEqual(out.values(name: "x-forwarded-for"), ["10.0.0.1, 10.0.0.2, 127.0.0.9"])
        XCTAssertEqual(out.first(name: "x-forwarded-proto"), "https")
        XCTAssertEqual(out.first(name: "x-forwarded-host"), "proxy.local:8443")
    }

    func testClientForwardedProtoAndHostAreKept() {
        var fields = request
        fields.add(name: "x-forwarded-proto", value: "http")
        fields.add(name: "x-forwarded-host", value: "edge")
        let out = HTTP2HeadTranslator.http2Request(fields, authority: "origin:80", forwardedFor: ("1.2.3.4", "https"))
        XCTAssertEqual(out.values(name: "x-forwarded-proto"), ["http"])
        XCTAssertEqual(out.values(name: "x-forwarded-host"), ["edge"])
        XCTAssertEqual(out.values(name: "x-forwarded-for"), ["10.0.0.1, 10.0.0.2, 1.2.3.4"])
    }

    func testWithoutForwardedHeadersOnlyTheAuthorityChanges() {
        let out = HTTP2HeadTranslator.http2Request(request, authority: "origin:80", forwardedFor: nil)
        XCTAssertEqual(out.fields.map(\.name), request.fields.map(\.name))
        XCTAssertEqual(out.first(name: ":authority"), "origin:80")
        XCTAssertEqual(out.values(name: "x-forwarded-for"), ["10.0.0.1", "10.0.0.2"])
        XCTAssertEqual(HTTP2HeadTranslator.http2Request(request, authority: nil, forwardedFor: nil), request)
    }

    func testPseudoHeadersAreFoundInOnePassAndTheCapturedHeadUsesThem() {
        let pseudo = HTTP2HeadTranslator.requestPseudoHeaders(request)
        XCTAssertEqual(pseudo.method, "GET")
        XCTAssertEqual(pseudo.scheme, "http")
        XCTAssertEqual(pseudo.authority, "proxy.local:8443")
        XCTAssertEqual(pseudo.path, "/a?b")
        let head = HTTP2HeadTranslator.capturedRequest(request)
        XCTAssertEqual(head.method, "GET")
        XCTAssertEqual(head.target, "/a?b")
        XCTAssertEqual(head.headers, request)

        let connect = HTTPHeaders([(":method", "CONNECT"), (":authority", "h:443")])
        XCTAssertEqual(HTTP2HeadTranslator.capturedRequest(connect).target, "h:443")
    }
}
