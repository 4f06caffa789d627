@testable import TaplineHTTPClient
import TaplineHTTP2
import TaplineWire
import XCTest

/// `HTTP2ClientLeg` against a server-role `HTTP2Session` wired through a
/// `SynchronousByteStream`: message-level translation both ways, pause reasons, and
/// what a reset stream reports.
final class HTTP2ClientLegTests: XCTestCase {
    private let target = UpstreamTarget(scheme: .http, host: "origin.test", port: 8080)
    private var origin: HTTP2OriginDouble!
    private var recorder: RecordingLegDelegate!
    private var leg: HTTP2ClientLeg!
    private var server: HTTP2Session { origin.server }
    /// The request events the server session saw.
    private var received: [HTTP2Event] { origin.received }

    override func setUpWithError() throws {
        origin = try HTTP2OriginDouble()
        recorder = RecordingLegDelegate()
        leg = try HTTP2ClientLeg.open(upstream: UpstreamConnection(target: target, stream: origin.socket, tls: nil))
        leg.delegate = recorder
    }

    private func exchangeFrames() {
        origin.exchangeFrames()
    }

    /// The recorder's events without the per-read `input done`.
    private func responseEvents() -> [String] {
        recorder.takeEvents().filter { $0 != "input done" }
    }

    private func requestHeaders() -> (fields: HTTPHeaders, endStream: Bool)? {
        for case .headers(_, let fields, .request, let endStream) in received { return (fields, endStream) }
        return nil
    }

    private func sendGET(_ path: String = "/", method: String = "GET") {
        leg.sendHead(.http1(HTTPRequestHead(method: method, target: path, version: .http1_1,
                                            headers: HTTPHeaders([("Host", "origin.test:8080"), ("Connection", "close"),
                                                                  ("Accept", "*/*")]))),
                     endStream: true)
        exchangeFrames()
    }

    /// The origin answers stream 1 with `200`, `content-length: 2` and `ok`.
    private func answerOK() throws {
        try server.submitResponse(stream: 1, headers: HTTPHeaders([(":status", "200"), ("content-length", "2")]),
                                  endStream: false)
        server.send(data: Array("ok".utf8), stream: 1)
        server.finish(stream: 1)
        exchangeFrames()
    }

    func testAnHTTP1HeadBecomesOneHEADERSFrameWithPseudoHeaders() throws {
        sendGET("/a?b")
        let (fields, endStream) = try XCTUnwrap(requestHeaders())
        XCTAssertEqual(fields.fields.map { "\($0.name): \($0.value)" },
                       [":method: GET", ":scheme: http", ":authority: origin.test:8080", ":path: /a?b", "accept: */*"])
        XCTAssertTrue(endStream)
    }

    func testAChunkedUploadWithTrailersBecomesDATAAndATrailingHEADERS() throws {
        leg.sendHead(.http1(HTTPRequestHead(method: "POST", target: "/up", version: .http1_1,
                                            headers: HTTPHeaders([("Host", "o"), ("Transfer-Encoding", "chunked")]))),
                     endStream: false)
        leg.sendBody(Array("hello".utf8)[...])
        leg.sendEnd(trailers: HTTPHeaders([("X-Sum", "5"), ("Content-Length", "5")]))
        exchangeFrames()
        let (fields, endStream) = try XCTUnwrap(requestHeaders())
        XCTAssertFalse(endStream)
        XCTAssertNil(fields.first(name: "transfer-encoding"), "connection-specific in HTTP/2")
        var body: [UInt8] = []
        var trailers: HTTPHeaders?
        for event in received {
            if case .data(_, let bytes) = event { body += bytes }
            if case .headers(_, let fields, .trailers, true) = event { trailers = fields }
        }
        XCTAssertEqual(String(decoding: body, as: UTF8.self), "hello")
        XCTAssertEqual(trailers?.fields.map { "\($0.name): \($0.value)" }, ["x-sum: 5"],
                       "lowercased, framing fields dropped")
    }

    func testAResponseOfUnknownLengthWithTrailersComesAsMessageEvents() throws {
        sendGET()
        try server.submitResponse(stream: 1, headers: HTTPHeaders([(":status", "200"), ("x-a", "1")]), endStream: false)
        server.send(data: Array("abc".utf8), stream: 1)
        server.finish(stream: 1, trailers: HTTPHeaders([("grpc-status", "0")]))
        exchangeFrames()
        XCTAssertEqual(responseEvents(), ["started", "head 200 chunked", "body abc", "end grpc-status: 0"])
        let head = try XCTUnwrap(recorder.heads.first)
        XCTAssertEqual(head.received.version, .http2, "recorded as the upstream sent it")
        XCTAssertEqual(head.received.headers.first(name: ":status"), "200")
        XCTAssertTrue(leg.poolable)
    }

    func testAHeadResponseIsWholeWithItsHead() throws {
        sendGET(method: "HEAD")
        try server.submitResponse(stream: 1, headers: HTTPHeaders([(":status", "200"), ("content-length", "10")]),
                                  endStream: false)
        exchangeFrames()
        XCTAssertEqual(responseEvents(), ["started", "head 200 none", "end -"])
        XCTAssertTrue(leg.poolable)
    }

    /// An idle leg (parked in a pool with its last owner still its delegate) reports
    /// nothing, not even the end of an input burst: here the server's GOAWAY, which only
    /// makes the leg unfit for another request.
    func testAnIdleLegTellsItsDelegateNothing() throws {
        sendGET()
        try server.submitResponse(stream: 1, headers: HTTPHeaders([(":status", "204")]), endStream: true)
        exchangeFrames()
        XCTAssertEqual(responseEvents(), ["started", "head 204 none", "end -"])
        XCTAssertTrue(leg.poolable)
        server.goAway(code: .noError)
        exchangeFrames()
        XCTAssertEqual(recorder.takeEvents(), [], "nothing reaches the owner of an idle leg")
        XCTAssertFalse(leg.poolable, "after GOAWAY it takes no new stream")
    }

    func testEventsWaitWhilePausedAndOneReasonCannotResumeAnother() throws {
        sendGET()
        leg.pauseReading(.clientSlow)
        leg.pauseReading(.captureBackedUp)
        try answerOK()
        XCTAssertEqual(responseEvents(), [])
        leg.resumeReading(.clientSlow)
        XCTAssertEqual(responseEvents(), [], "the capture still holds it")
        leg.resumeReading(.captureBackedUp)
        XCTAssertEqual(responseEvents(), ["started", "head 200 contentLength(2)", "body ok", "end -"])
    }

    /// Events that waited while paused come inside the owner's `resumeReading`: a batch
    /// of their own, ended with `legFinishedInput` before the call returns (an HTTP/2
    /// client's handler flushes its session on it).
    func testEventsDeliveredInsideTheOwnersCallAreFollowedByTheEndOfInput() throws {
        sendGET()
        leg.pauseReading(.clientSlow)
        try answerOK()
        _ = recorder.takeEvents()
        leg.resumeReading(.clientSlow)
        XCTAssertEqual(recorder.takeEvents(), ["started", "head 200 contentLength(2)", "body ok", "end -", "input done"])
    }

    /// The owner lets go of the leg on the response's end (its source clears the delegate):
    /// the end of that read's input still reaches it.
    func testTheOwnerThatHeardTheEndHearsTheEndOfInputAfterLettingGo() throws {
        sendGET()
        recorder.onEnd = { $0.delegate = nil }
        try answerOK()
        XCTAssertEqual(recorder.takeEvents(), ["started", "head 200 contentLength(2)", "body ok", "end -", "input done"])
    }

    func testAResetStreamFailsTheRequest() throws {
        sendGET()
        server.reset(stream: 1, code: .refusedStream)
        exchangeFrames()
        XCTAssertEqual(responseEvents(), ["failed upstream-aborted"])
        XCTAssertEqual(recorder.failure?.message, "origin.test:8080 reset the HTTP/2 stream with REFUSED_STREAM (0x7)")
        XCTAssertFalse(leg.poolable)
    }

    func testAnEarlierStreamEndingLateDoesNotTouchTheNextRequest() throws {
        sendGET(method: "HEAD")
        try server.submitResponse(stream: 1, headers: HTTPHeaders([(":status", "200"), ("content-length", "10")]),
                                  endStream: false)
        exchangeFrames()
        XCTAssertEqual(responseEvents(), ["started", "head 200 none", "end -"], "whole with its head")
        sendGET("/next")
        server.resetAfterQueuedData(stream: 1, code: .internalError) // the HEAD's stream, reset after its response
        try server.submitResponse(stream: 3, headers: HTTPHeaders([(":status", "200"), ("content-length", "2")]),
                                  endStream: false)
        server.send(data: Array("ok".utf8), stream: 3)
        server.finish(stream: 3)
        exchangeFrames()
        XCTAssertEqual(responseEvents(), ["started", "head 200 contentLength(2)", "body ok", "end -"])
        XCTAssertNil(recorder.failure)
        XCTAssertTrue(leg.reused)
    }
}
