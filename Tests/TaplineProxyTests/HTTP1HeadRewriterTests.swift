@testable import TaplineProxy
import TaplineWire
import XCTest

final class HTTP1HeadRewriterTests: XCTestCase {
    func testSplitsAbsoluteFormIntoTargetAndOriginForm() throws {
        let (target, rest) = try XCTUnwrap(HTTP1HeadRewriter.splitAbsoluteForm("http://Example.com:8080/a/b?c=1#frag"))
        XCTAssertEqual(target, UpstreamTarget(scheme: .http, host: "Example.com", port: 8080))
        XCTAssertEqual(rest, "/a/b?c=1")

        let (https, root) = try XCTUnwrap(HTTP1HeadRewriter.splitAbsoluteForm("https://[::1]?q"))
        XCTAssertEqual(https, UpstreamTarget(scheme: .https, host: "::1", port: 443))
        XCTAssertEqual(root, "/?q")

        XCTAssertNil(HTTP1HeadRewriter.splitAbsoluteForm("/just/a/path"))
        XCTAssertNil(HTTP1HeadRewriter.splitAbsoluteForm("http://host:99999/"))
        XCTAssertNil(HTTP1HeadRewriter.splitAbsoluteForm("ftp://host/"))
    }

    func testDropsHopByHopFieldsAndThoseNamedByConnection() {
        let headers = HTTPHeaders([
            ("Host", "a"), ("Connection", "keep-alive, X-Secret"), ("Keep-Alive", "timeout=5"),
            ("X-Secret", "1"), ("Proxy-Connection", "keep-alive"), ("TE", "trailers, deflate"),
            ("Accept", "*/*"),
        ])
        let result = HTTP1HeadRewriter.removeHopByHop(headers, keepUpgrade: false)
        XCTAssertEqual(result.fields.map(\.name), ["Host", "TE", "Accept"])
        XCTAssertEqual(result.first(name: "te"), "trailers")
    }

    func testUpgradeKeepsUpgradeAndConnection() {
        let headers = HTTPHeaders([("Host", "a"), ("Connection", "Upgrade"), ("Upgrade", "websocket")])
        let result = HTTP1HeadRewriter.removeHopByHop(headers, keepUpgrade: true)
        XCTAssertEqual(result.first(name: "Upgrade"), "websocket")
        XCTAssertEqual(result.first(name: "Connection"), "Upgrade")
    }

    func testReverseModeRewritesHostAndAddsForwardedHeadersKeepingOrderAndCase() {
        let head = HTTPRequestHead(method: "GET", target: "/x", headers: HTTPHeaders([
            ("host", "proxy.local:8081"), ("X-Forwarded-For", "10.0.0.1"), ("accept", "*/*"),
        ]))
        let out = HTTP1HeadRewriter.upstreamRequest(head, originForm: "/x", hostHeader: "api:9000",
                                                    forwardedFor: ("127.0.0.1", "http"), isUpgrade: false)
        XCTAssertEqual(out.fields(), [
            "host: api:9000", "X-Forwarded-For: 10.0.0.1, 127.0.0.1", "accept: */*",
            "X-Forwarded-Proto: http", "X-Forwarded-Host: proxy.local:8081",
        ])
    }

    func testChunkedResponseToHTTP10ClientBecomesCloseDelimited() {
        let head = HTTPResponseHead(status: 200, reason: "OK", headers: HTTPHeaders([
            ("Transfer-Encoding", "chunked"), ("Content-Type", "text/plain"),
        ]))
        let out = HTTP1HeadRewriter.clientResponse(head, framing: .chunked, clientFraming: .untilClose,
                                                   closeAfter: true, clientVersion: .http1_0, isUpgrade: false)
        XCTAssertFalse(out.headers.contains(name: "Transfer-Encoding"))
        XCTAssertEqual(out.headers.first(name: "Connection"), "close")
    }

    func testBodyFramingOfResponses() {
        let chunked = HTTPResponseHead(status: 200, headers: HTTPHeaders([("Transfer-Encoding", "chunked")]))
        XCTAssertEqual(HTTP1BodyFraming.of(response: chunked, requestMethod: "GET"), .chunked)
        XCTAssertEqual(HTTP1BodyFraming.of(response: chunked, requestMethod: "HEAD"), .none)
        let length = HTTPResponseHead(status: 200, headers: HTTPHeaders([("Content-Length", "3")]))
        XCTAssertEqual(HTTP1BodyFraming.of(response: length, requestMethod: "GET"), .contentLength)
        XCTAssertEqual(HTTP1BodyFraming.of(response: HTTPResponseHead(status: 304, headers: length.headers),
                                           requestMethod: "GET"), .none)
        XCTAssertEqual(HTTP1BodyFraming.of(response: HTTPResponseHead(status: 200), requestMethod: "GET"), .untilClose)
    }
}

private extension HTTPRequestHead {
    func fields() -> [String] { headers.fields.map { "\($0.name): \($0.value)" } }
}
