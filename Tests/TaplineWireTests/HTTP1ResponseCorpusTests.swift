import XCTest
@testable import TaplineWire

/// Valid responses: each must give the same events whole, split at every offset, and byte by byte.
final class HTTP1ResponseCorpusTests: XCTestCase {
    private typealias D = HTTP1TestDriver

    private func head(_ status: Int, _ reason: String, _ fields: [(String, String)] = [],
                      version: HTTPVersion = .http1_1) -> HTTP1Observed {
        .responseHead(HTTPResponseHead(version: version, status: status, reason: reason,
                                       headers: HTTPHeaders(fields.map { (name: $0.0, value: $0.1) })))
    }

    func testContentLength() {
        D.assertResponses(D.bytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: s\r\n\r\nhello"), methods: ["GET"], give: [
            head(200, "OK", [("Content-Length", "5"), ("Server", "s")]), .body(D.bytes("hello")), .end(nil),
        ])
    }

    func testHeadResponseHasNoBodyWhateverItsHeadersSay() {
        let input = "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        D.assertResponses(D.bytes(input), methods: ["HEAD", "GET"], give: [
            head(200, "OK", [("Content-Length", "1234")]), .end(nil),
            head(200, "OK", [("Content-Length", "2")]), .body(D.bytes("ok")), .end(nil),
        ])
    }

    func testContinueThenFinalResponse() {
        let input = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n"
            + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 204 No Content\r\n\r\n"
        D.assertResponses(D.bytes(input), methods: ["POST", "HEAD"], give: [
            head(100, "Continue"), .end(nil),
            head(103, "Early Hints", [("Link", "</s.css>")]), .end(nil),
            head(200, "OK", [("Content-Length", "2")]), .body(D.bytes("ok")), .end(nil),
            head(204, "No Content"), .end(nil),
        ])
    }

    func testNoContentAndNotModifiedIgnoreFraming() {
        let input = "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n"
            + "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\nETag: \"x\"\r\n\r\n"
            + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
        D.assertResponses(D.bytes(input), methods: ["GET", "GET", "GET"], give: [
            head(204, "No Content", [("Content-Length", "10")]), .end(nil),
            head(304, "Not Modified", [("Transfer-Encoding", "chunked"), ("ETag", "\"x\"")]), .end(nil),
            head(200, "OK", [("Content-Length", "0")]), .end(nil),
        ])
    }

    /// The framing the parser decided after each head: what a proxy forwards by.
    func testMessageFramingAfterEachHead() throws {
        let framings = try afterEachHead(of: "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n"
            + "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n"
            + "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok"
            + "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"
            + "HTTP/1.1 200 OK\r\n\r\n", methods: ["HEAD", "GET", "GET", "GET", "GET"], \.messageFraming)
        XCTAssertEqual(framings, [.none, .none, .length(2), .chunked, .untilClose])
    }

    /// What `property` of the parser says right after each head of `input` (answers to `methods`).
    private func afterEachHead<Value>(of input: String, methods: [String],
                                      _ property: KeyPath<HTTP1ResponseParser, Value>) throws -> [Value] {
        var parser = HTTP1ResponseParser()
        for method in methods { parser.expectResponse(toMethod: method) }
        parser.append(D.bytes(input))
        var values: [Value] = []
        while let event = try parser.nextEvent() {
            if case .head = event { values.append(parser[keyPath: property]) }
        }
        return values
    }

    /// The Content-Length a bodiless response stated, once its values agree: what a proxy
    /// forwards as its one Content-Length; nil for responses with a body and interim ones.
    func testStatedContentLengthOfBodilessResponses() throws {
        let stated = try afterEachHead(of: "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n"
            + "HTTP/1.1 103 Early Hints\r\nContent-Length: 7\r\n\r\n"
            + "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\nContent-Length: 9\r\n\r\n"
            + "HTTP/1.1 204 No Content\r\n\r\n"
            + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            methods: ["HEAD", "GET", "GET", "GET"], \.statedContentLength)
        XCTAssertEqual(stated, [5, nil, 9, nil, nil])
    }

    func testCloseDelimitedEndsAtFinish() {
        D.assertResponses(D.bytes("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end"), methods: ["GET"], give: [
            head(200, "OK", [("Content-Type", "text/plain")]), .body(D.bytes("until the end")), .end(nil),
        ], finish: true)
    }

    func testHTTP10AndNonChunkedTransferEncodingAreCloseDelimited() {
        D.assertResponses(D.bytes("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), methods: ["GET"], give: [
            head(200, "OK", [("Transfer-Encoding", "chunked")], version: .http1_0), .body(D.bytes("0\r\n\r\n")), .end(nil),
        ], finish: true)
        D.assertResponses(D.bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nzz"), methods: ["GET"], give: [
            head(200, "OK", [("Transfer-Encoding", "chunked, gzip")]), .body(D.bytes("zz")), .end(nil),
        ], finish: true)
    }

    func testChunkedWithTrailers() {
        let input = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\ngrpc-status: 0\r\n\r\n"
        D.assertResponses(D.bytes(input), methods: ["POST"], give: [
            head(200, "OK", [("Transfer-Encoding", "chunked")]), .body(D.bytes("abc")),
            .end(HTTPHeaders([("grpc-status", "0")])),
        ])
    }

    func testSwitchingProtocolsStops() {
        let frame: [UInt8] = [0x81, 0x02, 0x68, 0x69]
        let input = D.bytes("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n") + frame
        D.assertResponses(input, methods: ["GET"], give: [
            head(101, "Switching Protocols", [("Upgrade", "websocket"), ("Connection", "Upgrade")]), .end(nil), .unparsed(frame),
        ])
    }

    func testConnectEstablishedStopsButRefusalHasABody() {
        let tunnel = D.bytes("\u{16}\u{03}\u{03}tunnel")
        D.assertResponses(D.bytes("HTTP/1.1 200 Connection Established\r\nContent-Length: 99\r\n\r\n") + tunnel,
                          methods: ["CONNECT"], give: [
            head(200, "Connection Established", [("Content-Length", "99")]), .end(nil), .unparsed(tunnel),
        ])
        D.assertResponses(D.bytes("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 4\r\n\r\ndeny"),
                          methods: ["CONNECT"], give: [
            head(407, "Proxy Authentication Required", [("Content-Length", "4")]), .body(D.bytes("deny")), .end(nil),
        ])
    }

    func testReasonPhraseMayBeEmptyOrMissing() {
        let input = "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\nHTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n"
        D.assertResponses(D.bytes(input), methods: ["GET", "GET"], give: [
            head(200, "", [("Content-Length", "0")]), .end(nil),
            head(404, "", [("Content-Length", "0")]), .end(nil),
        ])
    }

    func testResponseWithoutAnnouncedRequestIsReadAsGet() {
        D.assertResponses(D.bytes("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"), methods: [], give: [
            head(200, "OK", [("Content-Length", "1")]), .body(D.bytes("x")), .end(nil),
        ])
    }
}
