@testable import TaplineHTTPClient
import TaplineFlow
import TaplineWire
import XCTest

/// `HTTP1ClientLeg` driven through a `SynchronousByteStream`: the bytes it sends for a
/// request, the one response loop (1xx, final head, body, end), keep-alive, pause
/// reasons, and what it reports when the connection ends.
final class HTTP1ClientLegTests: XCTestCase {
    private let target = UpstreamTarget(scheme: .http, host: "origin.test", port: 8080)
    private var stream: SynchronousByteStream!
    private var recorder: RecordingLegDelegate!

    override func setUp() {
        stream = SynchronousByteStream()
        recorder = RecordingLegDelegate()
    }

    private func makeLeg(reused: Bool = false) -> HTTP1ClientLeg {
        let leg = HTTP1ClientLeg(upstream: UpstreamConnection(target: target, stream: stream, tls: nil),
                                 reused: reused, limits: HTTP1Limits())
        leg.delegate = recorder
        return leg
    }

    private func get(_ path: String = "/", extra: [(String, String)] = []) -> LegRequestHead {
        .http1(HTTPRequestHead(method: "GET", target: path, version: .http1_1,
                               headers: HTTPHeaders([("Host", "origin.test:8080")] + extra)))
    }

    // MARK: Requests

    func testARequestWithABodyOfUnknownLengthGoesChunkedWithItsTrailers() {
        let leg = makeLeg()
        leg.sendHead(.http1(HTTPRequestHead(method: "POST", target: "/up", version: .http1_1,
                                            headers: HTTPHeaders([("Host", "o")]))), endStream: false)
        leg.sendBody(Array("hello".utf8)[...])
        leg.sendEnd(trailers: HTTPHeaders([("x-sum", "5"), ("content-length", "9")]))
        XCTAssertEqual(stream.writtenText,
                       "POST /up HTTP/1.1\r\nHost: o\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nx-sum: 5\r\n\r\n")
    }

    func testAContentLengthBodyGoesAsItIs() {
        let leg = makeLeg()
        leg.sendHead(.http1(HTTPRequestHead(method: "PUT", target: "/x", version: .http1_1,
                                            headers: HTTPHeaders([("Host", "o"), ("Content-Length", "2")]))),
                     endStream: false)
        leg.sendBody(Array("ok".utf8)[...])
        leg.sendEnd(trailers: nil)
        XCTAssertEqual(stream.writtenText, "PUT /x HTTP/1.1\r\nHost: o\r\nContent-Length: 2\r\n\r\nok")
    }

    func testAnHTTP2RequestBlockIsTranslatedByTheLeg() {
        let leg = makeLeg()
        leg.sendHead(.http2(HTTPHeaders([(":method", "GET"), (":scheme", "http"), (":authority", "origin.test"),
                                         (":path", "/p?q"), ("cookie", "a=1"), ("cookie", "b=2")])),
                     endStream: true)
        XCTAssertEqual(stream.writtenText, "GET /p?q HTTP/1.1\r\nHost: origin.test\r\ncookie: a=1; b=2\r\n\r\n")
    }

    // MARK: The response loop

    func testInterimHeadsArePassedOnAndTheirEndIsNot() {
        let leg = makeLeg()
        leg.sendHead(get(), endStream: true)
        XCTAssertFalse(leg.reused, "the first request on a fresh connection")
        stream.deliver("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s>\r\n\r\n"
            + "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc")
        XCTAssertEqual(recorder.takeEvents(), ["started", "head 100 none", "head 103 none", "head 200 contentLength(3)",
                                               "body abc", "end -", "input done"])
        XCTAssertEqual(recorder.heads.last?.received.reason, "OK")
        XCTAssertTrue(leg.poolable)
        XCTAssertTrue(leg.reused, "the next request goes over a used connection")
    }

    func testTheNextRequestOnAKeptAliveLegIsReused() {
        let leg = makeLeg()
        leg.sendHead(get(), endStream: true)
        stream.deliver("HTTP/1.1 204 No Content\r\n\r\n")
        leg.sendHead(get("/2"), endStream: true)
        XCTAssertTrue(leg.reused)
        XCTAssertFalse(leg.responseStarted)
        stream.deliver("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nx-t: 1\r\n\r\n")
        XCTAssertEqual(recorder.takeEvents().suffix(4), ["head 200 chunked", "body hi", "end x-t: 1", "input done"])
    }

    /// A kept leg parses every response with the one parser it started with: HEAD and GET
    /// answers stay matched to their requests, a head split across reads still parses,
    /// over more requests than the parser's queue of expected responses keeps before it compacts.
    func testAKeptLegAnswersManyRequestsInTurnWithItsOneParser() {
        let leg = makeLeg()
        for index in 0..<40 {
            let isHead = index % 2 == 0
            leg.sendHead(.http1(HTTPRequestHead(method: isHead ? "HEAD" : "GET", target: "/\(index)", version: .http1_1,
                                                headers: HTTPHeaders([("Host", "o")]))), endStream: true)
            stream.deliver("HTTP/1.1 200 OK\r\nContent-Le")
            stream.deliver("ngth: 5\r\n\r\n" + (isHead ? "" : "\(index % 10)abcd"))
            let events = recorder.takeEvents()
            XCTAssertEqual(events.filter { !$0.hasPrefix("input") && $0 != "started" },
                           isHead ? ["head 200 none", "end -"] : ["head 200 contentLength(5)", "body \(index % 10)abcd", "end -"],
                           "request \(index)")
            XCTAssertTrue(leg.poolable, "request \(index)")
        }
    }

    /// After a 2xx to CONNECT the connection is a tunnel, whatever the head says about keep-alive.
    func testAConnectionThatBecameATunnelIsNotPoolable() {
        let leg = makeLeg()
        leg.sendHead(.http1(HTTPRequestHead(method: "CONNECT", target: "origin.test:443", version: .http1_1,
                                            headers: HTTPHeaders([("Host", "origin.test:443")]))), endStream: true)
        stream.deliver("HTTP/1.1 200 Connection established\r\n\r\n")
        XCTAssertEqual(recorder.takeEvents(), ["started", "head 200 none", "end -", "input done"])
        XCTAssertFalse(leg.poolable)
    }

    func testConnectionCloseOrAnUnsentRequestBodyMakesTheConnectionUnpoolable() {
        let leg = makeLeg()
        leg.sendHead(get(), endStream: true)
        stream.deliver("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
        XCTAssertFalse(leg.poolable)

        let early = SynchronousByteStream()
        let second = HTTP1ClientLeg(upstream: UpstreamConnection(target: target, stream: early, tls: nil),
                                    reused: false, limits: HTTP1Limits())
        second.delegate = recorder
        second.sendHead(.http1(HTTPRequestHead(method: "POST", target: "/", version: .http1_1,
                                               headers: HTTPHeaders([("Content-Length", "10")]))), endStream: false)
        early.deliver("HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\n\r\n")
        XCTAssertFalse(second.poolable, "the rest of the request body was never sent")
    }

    func testACloseDelimitedBodyEndsWithTheConnection() {
        let leg = makeLeg()
        leg.sendHead(get(), endStream: true)
        stream.deliver("HTTP/1.0 200 OK\r\n\r\nall of it")
        stream.deliverEOF()
        XCTAssertEqual(recorder.takeEvents(), ["started", "head 200 untilClose", "body all of it", "input done",
                                               "end -", "input done"])
        XCTAssertFalse(leg.poolable)
    }

    // MARK: Pause reasons

    func testOneReasonCannotResumeWhatAnotherPaused() {
        let leg = makeLeg()
        leg.sendHead(get(), endStream: true)
        recorder.onBody = { leg in leg.pauseReading(.clientSlow) }
        leg.pauseReading(.captureBackedUp)
        XCTAssertTrue(stream.readingPaused)
        stream.deliver("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n1\r\nb\r\n0\r\n\r\n")
        XCTAssertEqual(recorder.takeEvents(), ["started", "input done"], "nothing is delivered while paused")

        leg.resumeReading(.clientSlow) // never paused for that: changes nothing
        XCTAssertEqual(recorder.takeEvents(), [])
        leg.resumeReading(.captureBackedUp)
        XCTAssertEqual(recorder.takeEvents(), ["head 200 chunked", "body a", "input done"],
                       "the client filled up on the first chunk; what waited is a batch of its own")
        XCTAssertTrue(stream.readingPaused)

        leg.pauseReading(.captureBackedUp)
        leg.resumeReading(.clientSlow)
        XCTAssertEqual(recorder.takeEvents(), [], "the capture still holds it")
        XCTAssertTrue(stream.readingPaused)
        recorder.onBody = nil
        leg.resumeReading(.captureBackedUp)
        XCTAssertEqual(recorder.takeEvents(), ["body b", "end -", "input done"])
        XCTAssertFalse(stream.readingPaused)
    }

    // MARK: Failures, upgrade, idle

    func testAReusedConnectionThatClosesBeforeAnyResponseByteFailsAsStale() {
        let leg = makeLeg(reused: true)
        leg.sendHead(get(), endStream: true)
        stream.deliverEOF()
        XCTAssertEqual(recorder.takeEvents(), ["failed upstream-aborted", "input done"])
        XCTAssertEqual(recorder.failure?.message, "origin.test:8080 closed the connection without sending a response")
        XCTAssertTrue(leg.reused)
        XCTAssertFalse(leg.responseStarted)
    }

    func testAResponseCutShortIsLostInTheMiddleOfTheBody() {
        let leg = makeLeg()
        leg.sendHead(get(), endStream: true)
        stream.deliver("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        stream.deliverEOF()
        XCTAssertEqual(recorder.failure?.message, "origin.test:8080 closed the connection in the middle of the response body")
    }

    /// A reset (the socket closes with an error, no FIN first) mid-body is the same loss,
    /// with the socket's reason: not a bad response, whichever handler owns the leg.
    func testAResetInTheMiddleOfTheBodyIsLostWithItsReason() {
        struct Reset: Error, CustomStringConvertible { var description: String { "connection reset by peer" } }
        let leg = makeLeg()
        leg.sendHead(get(), endStream: true)
        stream.deliver("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        stream.deliverClose(error: Reset())
        XCTAssertEqual(recorder.failure?.kind, .upstreamAborted)
        XCTAssertEqual(recorder.failure?.message,
                       "origin.test:8080 closed the connection in the middle of the response body (connection reset by peer)")
    }

    func testAnInvalidResponseIsABadResponse() {
        let leg = makeLeg()
        leg.sendHead(get(), endStream: true)
        stream.deliver("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n")
        XCTAssertEqual(recorder.failure?.kind, .badResponse)
        XCTAssertFalse(leg.poolable)
    }

    func testASwitchHandsTheConnectionOverWithTheBytesAfterIt() throws {
        let leg = makeLeg()
        leg.sendHead(get(extra: [("Connection", "Upgrade"), ("Upgrade", "websocket")]), endStream: true)
        var taken: (stream: any ByteStream, unparsed: [UInt8])?
        recorder.onHead = { leg in taken = leg.takeOver() } // as an owner does on the 101
        stream.deliver("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nws")
        XCTAssertEqual(recorder.takeEvents(), ["started", "head 101 none", "input done"])
        let (handed, unparsed) = try XCTUnwrap(taken)
        XCTAssertTrue(handed === stream)
        XCTAssertEqual(unparsed, Array("ws".utf8))
        XCTAssertNil(stream.delegate)
        XCTAssertFalse(leg.poolable)
    }

    func testAnIdleConnectionThatSpeaksIsClosed() {
        let leg = makeLeg()
        leg.sendHead(get(), endStream: true)
        stream.deliver("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        XCTAssertTrue(leg.poolable)
        stream.deliver("HTTP/1.1 408 Request Timeout\r\n\r\n")
        XCTAssertFalse(leg.poolable)
        XCTAssertTrue(stream.closed)
    }
}
