import XCTest
@testable import TaplineWire

/// Valid requests: each must give the same events whole, split at every offset, and byte by byte.
final class HTTP1RequestCorpusTests: XCTestCase {
    private typealias D = HTTP1TestDriver

    private func head(_ method: String, _ target: String, _ fields: [(String, String)],
                      version: HTTPVersion = .http1_1) -> HTTP1Observed {
        .requestHead(HTTPRequestHead(method: method, target: target, version: version,
                                     headers: HTTPHeaders(fields.map { (name: $0.0, value: $0.1) })))
    }

    func testSimpleGet() {
        D.assertRequests(D.bytes("GET /index.html?q=1 HTTP/1.1\r\nHost: example.test\r\nUser-Agent: t/1\r\nAccept: */*\r\n\r\n"), give: [
            head("GET", "/index.html?q=1", [("Host", "example.test"), ("User-Agent", "t/1"), ("Accept", "*/*")]),
            .end(nil),
        ])
    }

    func testPostWithContentLength() {
        D.assertRequests(D.bytes("POST /submit HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\ncontent-type: text/plain\r\n\r\nhello world"), give: [
            head("POST", "/submit", [("Host", "a"), ("Content-Length", "11"), ("content-type", "text/plain")]),
            .body(D.bytes("hello world")),
            .end(nil),
        ])
    }

    func testChunkedWithExtensionsAndTrailers() {
        let input = "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n"
            + "5;name=value\r\nhello\r\n6 ; quoted=\"x y\"\r\n world\r\n000\r\nX-Checksum: abc\r\nX-Other: \t v \r\n\r\n"
        D.assertRequests(D.bytes(input), give: [
            head("POST", "/up", [("Host", "a"), ("Transfer-Encoding", "chunked"), ("Trailer", "X-Checksum")]),
            .body(D.bytes("hello world")),
            .end(HTTPHeaders([("X-Checksum", "abc"), ("X-Other", "v")])),
        ])
    }

    func testChunkedWithoutTrailersAndUppercaseHex() {
        let input = "PUT /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \tChunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n"
        D.assertRequests(D.bytes(input), give: [
            head("PUT", "/x", [("Host", "a"), ("Transfer-Encoding", "Chunked")]),
            .body(D.bytes("0123456789")),
            .end(nil),
        ])
    }

    func testPipelinedPair() {
        let input = "GET /one HTTP/1.1\r\nHost: a\r\n\r\nPOST /two HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
            + "GET /three HTTP/1.1\r\nHost: a\r\n\r\n"
        D.assertRequests(D.bytes(input), give: [
            head("GET", "/one", [("Host", "a")]), .end(nil),
            head("POST", "/two", [("Host", "a"), ("Content-Length", "3")]), .body(D.bytes("abc")), .end(nil),
            head("GET", "/three", [("Host", "a")]), .end(nil),
        ])
    }

    func testLeadingEmptyLinesAreSkipped() {
        D.assertRequests(D.bytes("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), give: [
            head("GET", "/", [("Host", "a")]), .end(nil),
        ], finish: true)
    }

    func testExpectContinueNeedsNothingSpecial() {
        D.assertRequests(D.bytes("POST /u HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi"), give: [
            head("POST", "/u", [("Host", "a"), ("Expect", "100-continue"), ("Content-Length", "2")]),
            .body(D.bytes("hi")), .end(nil),
        ])
    }

    func testIdenticalDuplicateContentLengthsAreAccepted() {
        D.assertRequests(D.bytes("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\ncontent-length: 3\r\n\r\nxyz"), give: [
            head("POST", "/", [("Host", "a"), ("Content-Length", "3, 3"), ("content-length", "3")]),
            .body(D.bytes("xyz")), .end(nil),
        ])
    }

    func testConnectStopsAndHandsOverTheTunnel() {
        let tls: [UInt8] = [0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5]
        let input = D.bytes("CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n") + tls
        D.assertRequests(input, give: [
            head("CONNECT", "example.test:443", [("Host", "example.test:443")]), .end(nil), .unparsed(tls),
        ])
    }

    func testWebSocketUpgradeStopsWithFrameBytesAfterTheHead() {
        let frame: [UInt8] = [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58]
        let input = D.bytes("GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n") + frame
        D.assertRequests(input, give: [
            head("GET", "/chat", [("Host", "a"), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
                                  ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13")]),
            .end(nil), .unparsed(frame),
        ])
    }

    func testAbsoluteForm() {
        D.assertRequests(D.bytes("GET http://example.test:8080/p?x=1 HTTP/1.1\r\nHost: example.test:8080\r\nProxy-Connection: keep-alive\r\n\r\n"), give: [
            head("GET", "http://example.test:8080/p?x=1", [("Host", "example.test:8080"), ("Proxy-Connection", "keep-alive")]),
            .end(nil),
        ])
    }

    func testAsteriskFormAndHTTP10WithoutHost() {
        D.assertRequests(D.bytes("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.0\r\n\r\n"), give: [
            head("OPTIONS", "*", [("Host", "a")]), .end(nil),
            head("GET", "/", [], version: .http1_0), .end(nil),
        ])
    }

    func testUTF8InTargetAndValuesAndEmptyValue() {
        D.assertRequests(D.bytes("GET /caf\u{E9} HTTP/1.1\r\nHost: a\r\nX-Name: Ren\u{E9}e\r\nX-Empty:\r\n\r\n"), give: [
            head("GET", "/caf\u{E9}", [("Host", "a"), ("X-Name", "Ren\u{E9}e"), ("X-Empty", "")]), .end(nil),
        ])
    }
}
