@testable import TaplineProxy
import TaplineHTTPClient
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

    func testAbsoluteFormSchemeIsCaseInsensitiveAndUserinfoIsDropped() throws {
        let (target, rest) = try XCTUnwrap(HTTP1HeadRewriter.splitAbsoluteForm("HtTpS://user:pw@api.example:8443"))
        XCTAssertEqual(target, UpstreamTarget(scheme: .https, host: "api.example", port: 8443))
        XCTAssertEqual(rest, "/")
        let (plain, path) = try XCTUnwrap(HTTP1HeadRewriter.splitAbsoluteForm("HTTP://h\u{e9}te.example/caf\u{e9}#x"))
        XCTAssertEqual(plain, UpstreamTarget(scheme: .http, host: "h\u{e9}te.example", port: 80))
        XCTAssertEqual(path, "/caf\u{e9}")
        XCTAssertNil(HTTP1HeadRewriter.splitAbsoluteForm("http://"))
        XCTAssertNil(HTTP1HeadRewriter.splitAbsoluteForm("http://user@/x"))
        XCTAssertNil(HTTP1HeadRewriter.splitAbsoluteForm("http:/"))
        XCTAssertNil(HTTP1HeadRewriter.splitAbsoluteForm("https:"))
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

    /// Kept fields are copied in runs: a dropped or rewritten field first, last, or
    /// several in a row leaves exactly the other fields, bytes and order as received.
    func testHopByHopRemovalKeepsTheOtherFieldsByteForByteWhereverTheDroppedOnesAre() {
        let cases: [(fields: [HTTPHeaders.Field], kept: [HTTPHeaders.Field])] = [
            ([("Connection", "close"), ("Host", "a"), ("accept", "*/*")], [("Host", "a"), ("accept", "*/*")]),
            ([("Host", "a"), ("X-y", " v "), ("CONNECTION", "close")], [("Host", "a"), ("X-y", " v ")]),
            ([("Accept-Encoding", "identity"), ("Host", "127.0.0.1:1"), ("User-Agent", "u"), ("Connection", "close")],
             [("Accept-Encoding", "identity"), ("Host", "127.0.0.1:1"), ("User-Agent", "u")]),
            ([("A", "1"), ("Keep-Alive", "t=1"), ("Proxy-Connection", "k"), ("B", "2"), ("Connection", "X-Gone"),
              ("X-Gone", "3"), ("C", "4")], [("A", "1"), ("B", "2"), ("C", "4")]),
            ([("A", "1"), ("te", "Trailers"), ("B", "2")], [("A", "1"), ("te", "trailers"), ("B", "2")]),
            ([("Connection", "close"), ("Upgrade", "h2c")], []),
        ]
        for (fields, kept) in cases {
            let result = HTTP1HeadRewriter.removeHopByHop(HTTPHeaders(fields), keepUpgrade: false)
            XCTAssertEqual(result, HTTPHeaders(kept), "\(fields)")
            let head = HTTPRequestHead(method: "GET", target: "/", headers: result)
            XCTAssertEqual(HTTP1Serializer.requestHead(head),
                           Array(("GET / HTTP/1.1\r\n" + kept.map { "\($0.0): \($0.1)\r\n" }.joined() + "\r\n").utf8))
        }
        let upgrade = HTTP1HeadRewriter.removeHopByHop(
            HTTPHeaders([("A", "1"), ("Upgrade", "websocket"), ("Keep-Alive", "t"), ("B", "2")]), keepUpgrade: true)
        XCTAssertEqual(upgrade, HTTPHeaders([("A", "1"), ("Upgrade", "websocket"), ("B", "2"), ("Connection", "Upgrade")]))
    }

    /// A head with no framing field and none to write is the same list, and one that
    /// needs a length gets it at the end.
    func testFramingAHeadWithoutFramingFields() {
        let headers = HTTPHeaders([("Host", "a"), ("Accept", "*/*")])
        XCTAssertEqual(HTTP1HeadRewriter.framed(headers, .none), headers)
        XCTAssertEqual(HTTP1HeadRewriter.framed(headers, .untilClose), headers)
        XCTAssertEqual(HTTP1HeadRewriter.framed(headers, .contentLength(3)),
                       HTTPHeaders([("Host", "a"), ("Accept", "*/*"), ("Content-Length", "3")]))
        XCTAssertEqual(HTTP1HeadRewriter.framed(headers, .chunked),
                       HTTPHeaders([("Host", "a"), ("Accept", "*/*"), ("Transfer-Encoding", "chunked")]))
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
        let out = HTTP1HeadRewriter.upstreamRequest(head, framing: .none, originForm: "/x", hostHeader: "api:9000",
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

    func testBodyFramingComesFromTheParsersDecision() {
        XCTAssertEqual(HTTP1BodyFraming(.none), .none)
        XCTAssertEqual(HTTP1BodyFraming(.length(3)), .contentLength(3))
        XCTAssertEqual(HTTP1BodyFraming(.chunked), .chunked)
        XCTAssertEqual(HTTP1BodyFraming(.untilClose), .untilClose)
        XCTAssertFalse(HTTP1BodyFraming.contentLength(0).hasBody)
        XCTAssertTrue(HTTP1BodyFraming.contentLength(1).hasBody)
    }

    // MARK: Request smuggling: the forwarded framing is Tapline's own

    func testConnectionCannotRemoveFramingOrHost() {
        let head = HTTPRequestHead(method: "POST", target: "/a", headers: HTTPHeaders([
            ("Host", "a"), ("Connection", "Content-Length, Transfer-Encoding, Host, X-Drop"),
            ("Content-Length", "36"), ("X-Drop", "1"),
        ]))
        let out = HTTP1HeadRewriter.upstreamRequest(head, framing: .contentLength(36), originForm: "/a",
                                                    hostHeader: nil, forwardedFor: nil, isUpgrade: false)
        XCTAssertEqual(wire(out), "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 36\r\n\r\n")
    }

    func testFramingFieldIsWrittenEvenWhenNoneSurvived() {
        // The field the parser framed the body by is gone (named by Connection, or
        // dropped by some other rewrite): the decision still reaches the wire.
        let head = HTTPRequestHead(method: "POST", target: "/a", headers: HTTPHeaders([("Host", "a")]))
        let out = HTTP1HeadRewriter.upstreamRequest(head, framing: .contentLength(5), originForm: "/a",
                                                    hostHeader: nil, forwardedFor: nil, isUpgrade: false)
        XCTAssertEqual(wire(out), "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n")
    }

    func testDuplicateAndListContentLengthsCollapseToOneField() {
        let head = HTTPRequestHead(method: "POST", target: "/a", headers: HTTPHeaders([
            ("Host", "a"), ("content-length", "5, 5"), ("Accept", "*/*"), ("Content-Length", "5"),
        ]))
        let out = HTTP1HeadRewriter.upstreamRequest(head, framing: .contentLength(5), originForm: "/a",
                                                    hostHeader: nil, forwardedFor: nil, isUpgrade: false)
        XCTAssertEqual(wire(out), "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nAccept: */*\r\n\r\n")
    }

    func testChunkedRequestGetsExactlyOneChunkedCoding() {
        let head = HTTPRequestHead(method: "POST", target: "/a", headers: HTTPHeaders([
            ("Host", "a"), ("Transfer-Encoding", "Chunked"), ("Transfer-Encoding", "chunked"),
        ]))
        let out = HTTP1HeadRewriter.upstreamRequest(head, framing: .chunked, originForm: "/a",
                                                    hostHeader: nil, forwardedFor: nil, isUpgrade: false)
        XCTAssertEqual(wire(out), "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
    }

    func testAlreadyFramedHeadIsReturnedUnchanged() {
        let headers = HTTPHeaders([("Host", "a"), ("content-length", "12")])
        XCTAssertEqual(HTTP1HeadRewriter.framed(headers, .contentLength(12)).fields.map(\.name), ["Host", "content-length"])
    }

    func testResponseFramingIsWrittenFromTheDecision() {
        let head = HTTPResponseHead(status: 200, reason: "OK", headers: HTTPHeaders([
            ("Connection", "Content-Length"), ("Content-Length", "5"), ("Content-Length", "5"), ("X", "y"),
        ]))
        let out = HTTP1HeadRewriter.clientResponse(head, framing: .contentLength(5), clientFraming: .contentLength(5),
                                                   closeAfter: false, clientVersion: .http1_1, isUpgrade: false)
        XCTAssertEqual(String(decoding: HTTP1Serializer.responseHead(out), as: UTF8.self),
                       "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX: y\r\n\r\n")
    }

    func testChunkedResponseKeepsItsOtherCodingsAndOneChunked() {
        let head = HTTPResponseHead(status: 200, reason: "OK", headers: HTTPHeaders([
            ("Transfer-Encoding", "gzip, chunked"),
        ]))
        let out = HTTP1HeadRewriter.clientResponse(head, framing: .chunked, clientFraming: .chunked,
                                                   closeAfter: false, clientVersion: .http1_1, isUpgrade: false)
        XCTAssertEqual(out.headers.values(name: "Transfer-Encoding"), ["gzip, chunked"])
    }

    func testHeadResponseKeepsItsContentLength() {
        let head = HTTPResponseHead(status: 200, reason: "OK", headers: HTTPHeaders([("Content-Length", "1234")]))
        let out = HTTP1HeadRewriter.clientResponse(head, framing: .none, clientFraming: .none,
                                                   closeAfter: false, clientVersion: .http1_1, isUpgrade: false)
        XCTAssertEqual(out.headers.first(name: "Content-Length"), "1234")
    }

    func testBodilessResponseStatesItsContentLengthOnce() {
        let head = HTTPResponseHead(status: 304, reason: "Not Modified",
                                    headers: HTTPHeaders([("ETag", "x"), ("Content-Length", "5, 5"), ("Content-Length", "5")]))
        let out = HTTP1HeadRewriter.clientResponse(head, framing: .none, clientFraming: .none, statedContentLength: 5,
                                                   closeAfter: false, clientVersion: .http1_1, isUpgrade: false)
        XCTAssertEqual(out.headers.fields.map(\.name), ["ETag", "Content-Length"])
        XCTAssertEqual(out.headers.values(name: "Content-Length"), ["5"])
    }

    func testTrailersLoseFramingRoutingAndHopByHopFields() {
        let trailers = HTTPHeaders([
            ("Content-Length", "0"), ("X-Checksum", "abc"), ("transfer-encoding", "chunked"), ("Host", "evil"),
            ("Connection", "close"), ("Trailer", "X"), ("grpc-status", "0"),
        ])
        let out = HTTP1HeadRewriter.forwardableTrailers(trailers)
        XCTAssertEqual(out?.fields.map(\.name), ["X-Checksum", "grpc-status"])
        XCTAssertNil(HTTP1HeadRewriter.forwardableTrailers(HTTPHeaders([("Content-Length", "5")])))
        XCTAssertEqual(HTTP2HeadTranslator.http2Trailers(trailers)?.fields.map(\.name), ["x-checksum", "grpc-status"])
    }
}

/// The head as the serializer writes it.
private func wire(_ head: HTTPRequestHead) -> String {
    String(decoding: HTTP1Serializer.requestHead(head), as: UTF8.self)
}

private extension HTTPRequestHead {
    func fields() -> [String] { headers.fields.map { "\($0.name): \($0.value)" } }
}
