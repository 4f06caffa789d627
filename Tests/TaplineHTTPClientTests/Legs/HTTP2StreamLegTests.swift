import TaplineFlow
@testable import TaplineHTTPClient
import TaplineHTTP2
import TaplineWire
import XCTest

/// `HTTP2StreamLeg`s sharing one `HTTP2UpstreamConnection`, against a server-role
/// `HTTP2Session` wired through a `SynchronousByteStream`: events in (frames the
/// server sends), exactly these leg events out, without sockets.
final class HTTP2StreamLegTests: XCTestCase {
    /// Runs the connection's pump when it asks, as `HTTP2ProxyHandler` does.
    private final class Pump: HTTP2UpstreamConnectionOwner {
        private(set) var connectionEvents: [HTTP2Event] = []
        func upstreamConnectionNeedsPump(_ connection: HTTP2UpstreamConnection) {
            while connection.dispatchEvents() {}
            connection.flush()
        }
        func upstreamConnection(_ connection: HTTP2UpstreamConnection, received event: HTTP2Event) {
            connectionEvents.append(event)
        }
        func upstreamConnectionClosed(_ connection: HTTP2UpstreamConnection) {}
    }

    /// Takes a tunnel's stream events over from a leg.
    private final class StreamEvents: HTTP2UpstreamStreamDelegate {
        private(set) var events: [String] = []
        func upstreamStream(_ stream: Int32, received event: HTTP2Event) {
            if case .data(_, let bytes) = event { events.append("data \(String(decoding: bytes, as: UTF8.self))") }
        }
        func upstreamStream(_ stream: Int32, lost error: FlowError) { events.append("lost") }
    }

    private let target = UpstreamTarget(scheme: .http, host: "origin.test", port: 8080)
    private var origin: HTTP2OriginDouble!
    private var pump: Pump!
    private var connection: HTTP2UpstreamConnection!
    private var server: HTTP2Session { origin.server }
    /// The request events the server session saw.
    private var received: [HTTP2Event] { origin.received }

    override func setUpWithError() throws {
        origin = try HTTP2OriginDouble()
        pump = Pump()
        connection = try HTTP2UpstreamConnection(
            upstream: UpstreamConnection(target: target, stream: origin.socket, tls: nil), owner: pump)
    }

    /// The legs share a connection they do not pump: the test pumps it, as the handler does.
    private func exchangeFrames() {
        origin.exchangeFrames { pump.upstreamConnectionNeedsPump(connection) }
    }

    private func makeLeg(_ recorder: RecordingLegDelegate) -> HTTP2StreamLeg {
        HTTP2StreamLeg(connection: connection, owner: recorder)
    }

    private func requestBlock(_ method: String = "GET", path: String = "/") -> HTTPHeaders {
        HTTPHeaders([(":method", method), (":scheme", "http"), (":authority", "origin.test:8080"), (":path", path),
                     ("accept", "*/*")])
    }

    private func events(_ recorder: RecordingLegDelegate) -> [String] {
        recorder.takeEvents().filter { !$0.hasPrefix("framed") }
    }

    func testAnHTTP2BlockGoesAsIsAndItsResponseComesBackAsReceived() throws {
        let recorder = RecordingLegDelegate()
        let leg = makeLeg(recorder)
        leg.sendHead(.http2(requestBlock(path: "/a?b")), endStream: true)
        exchangeFrames()
        let request = received.compactMap { event -> [String]? in
            guard case .headers(_, let fields, .request, true) = event else { return nil }
            return fields.fields.map { "\($0.name): \($0.value)" }
        }
        XCTAssertEqual(request, [[":method: GET", ":scheme: http", ":authority: origin.test:8080", ":path: /a?b",
                                  "accept: */*"]])
        try server.submitInformational(stream: 1, headers: HTTPHeaders([(":status", "103"), ("link", "</s.css>")]))
        try server.submitResponse(stream: 1, headers: HTTPHeaders([(":status", "200"), ("X-Case", "kept")]),
                                  endStream: false)
        server.send(data: Array("abc".utf8), stream: 1)
        server.finish(stream: 1, trailers: HTTPHeaders([("grpc-status", "0")]))
        exchangeFrames()
        XCTAssertEqual(events(recorder), ["head 103 none", "started", "head 200 chunked", "body abc",
                                          "end grpc-status: 0", "closed NO_ERROR"])
        let final = try XCTUnwrap(recorder.heads.last)
        XCTAssertEqual(final.http2Fields?.fields.map { "\($0.name): \($0.value)" }, [":status: 200", "x-case: kept"],
                       "the block as received, for an HTTP/2 owner to forward")
        XCTAssertFalse(final.endsStream)
        XCTAssertFalse(leg.reused)
        XCTAssertFalse(leg.poolable, "a stream carries one request; the connection carries the next")
    }

    func testAHeadThatEndsTheStreamSaysSoAndTheEndFollows() throws {
        let recorder = RecordingLegDelegate()
        makeLeg(recorder).sendHead(.http2(requestBlock()), endStream: true)
        exchangeFrames()
        try server.submitResponse(stream: 1, headers: HTTPHeaders([(":status", "204")]), endStream: true)
        exchangeFrames()
        XCTAssertEqual(events(recorder), ["started", "head 204 none", "end -", "closed NO_ERROR"])
        XCTAssertEqual(recorder.heads.last?.endsStream, true)
    }

    func testLegsOnOneConnectionEachGetTheirOwnStreamsEvents() throws {
        let first = RecordingLegDelegate(), second = RecordingLegDelegate()
        makeLeg(first).sendHead(.http2(requestBlock(path: "/1")), endStream: true)
        let secondLeg = makeLeg(second)
        XCTAssertTrue(secondLeg.reused, "the connection carried a stream before")
        secondLeg.sendHead(.http2(requestBlock(path: "/2")), endStream: true)
        exchangeFrames()
        try server.submitResponse(stream: 3, headers: HTTPHeaders([(":status", "200"), ("content-length", "1")]),
                                  endStream: false)
        server.send(data: Array("3".utf8), stream: 3)
        server.finish(stream: 3)
        try server.submitResponse(stream: 1, headers: HTTPHeaders([(":status", "404")]), endStream: true)
        exchangeFrames()
        XCTAssertEqual(events(second), ["started", "head 200 contentLength(1)", "body 3", "end -", "closed NO_ERROR"])
        XCTAssertEqual(events(first), ["started", "head 404 contentLength(0)", "end -", "closed NO_ERROR"])
    }

    func testTheRequestGoesOnAfterTheResponseUntilTheUpstreamSaysNoMore() throws {
        let recorder = RecordingLegDelegate()
        let leg = makeLeg(recorder)
        leg.sendHead(.http2(requestBlock("POST")), endStream: false)
        leg.sendBody(Array("part 1".utf8))
        exchangeFrames()
        XCTAssertTrue(recorder.events.contains("framed 6"), "framed request bytes are reported, for the owner's credit")
        try server.submitResponse(stream: 1, headers: HTTPHeaders([(":status", "200")]), endStream: true)
        exchangeFrames()
        XCTAssertEqual(events(recorder), ["started", "head 200 contentLength(0)", "end -"])
        leg.sendBody(Array("part 2".utf8))
        exchangeFrames()
        XCTAssertEqual(recorder.takeEvents(), ["framed 6"], "the stream still takes the request")
        server.reset(stream: 1, code: .noError)
        exchangeFrames()
        XCTAssertEqual(events(recorder), ["reset by upstream NO_ERROR"])
        leg.sendEnd(trailers: nil)
        exchangeFrames()
        XCTAssertEqual(recorder.takeEvents(), [], "nothing after the leg let go of its stream")
    }

    func testAResetMidResponseIsReportedWithItsCodeNotAsAFailure() throws {
        let recorder = RecordingLegDelegate()
        makeLeg(recorder).sendHead(.http2(requestBlock()), endStream: true)
        exchangeFrames()
        try server.submitResponse(stream: 1, headers: HTTPHeaders([(":status", "200")]), endStream: false)
        server.send(data: Array("partial".utf8), stream: 1)
        server.resetAfterQueuedData(stream: 1, code: .internalError)
        exchangeFrames()
        XCTAssertEqual(events(recorder), ["started", "head 200 chunked", "body partial", "reset by upstream INTERNAL_ERROR"])
        XCTAssertNil(recorder.failure)
    }

    func testARefusedStreamIsReportedAsClosedWithItsCode() throws {
        let recorder = RecordingLegDelegate()
        makeLeg(recorder).sendHead(.http2(requestBlock()), endStream: true)
        exchangeFrames()
        server.reset(stream: 1, code: .refusedStream)
        exchangeFrames()
        XCTAssertEqual(events(recorder), ["reset by upstream REFUSED_STREAM"])
    }

    func testEventsWaitWhilePausedAndOneReasonCannotResumeAnother() throws {
        let recorder = RecordingLegDelegate()
        let leg = makeLeg(recorder)
        leg.sendHead(.http2(requestBlock()), endStream: true)
        leg.pauseReading(.clientSlow)
        leg.pauseReading(.captureBackedUp)
        exchangeFrames()
        try server.submitResponse(stream: 1, headers: HTTPHeaders([(":status", "200"), ("content-length", "2")]),
                                  endStream: false)
        server.send(data: Array("ok".utf8), stream: 1)
        server.finish(stream: 1)
        exchangeFrames()
        XCTAssertEqual(events(recorder), [])
        leg.resumeReading(.clientSlow)
        XCTAssertEqual(events(recorder), [], "the capture still holds it")
        leg.resumeReading(.captureBackedUp)
        XCTAssertEqual(events(recorder), ["started", "head 200 contentLength(2)", "body ok", "end -", "closed NO_ERROR"])
    }

    func testCancelResetsTheStreamWithTheGivenCodeAndNothingFollows() throws {
        let recorder = RecordingLegDelegate()
        let leg = makeLeg(recorder)
        leg.sendHead(.http2(requestBlock("POST")), endStream: false)
        exchangeFrames()
        leg.cancel(code: .streamClosed)
        exchangeFrames()
        let resets = received.compactMap { event -> HTTP2ErrorCode? in
            if case .streamReset(1, let code) = event { return code }
            return nil
        }
        XCTAssertEqual(resets, [.streamClosed])
        try? server.submitResponse(stream: 1, headers: HTTPHeaders([(":status", "200")]), endStream: true)
        exchangeFrames()
        XCTAssertEqual(events(recorder), [])
    }

    func testLosingTheConnectionFailsAResponseInFlightButNotOneThatEnded() throws {
        let inFlight = RecordingLegDelegate(), done = RecordingLegDelegate()
        makeLeg(done).sendHead(.http2(requestBlock("POST")), endStream: false)
        makeLeg(inFlight).sendHead(.http2(requestBlock()), endStream: true)
        exchangeFrames()
        try server.submitResponse(stream: 1, headers: HTTPHeaders([(":status", "200")]), endStream: true)
        exchangeFrames()
        XCTAssertEqual(events(done), ["started", "head 200 contentLength(0)", "end -"])
        origin.socket.deliverClose()
        XCTAssertEqual(events(inFlight), ["failed upstream-aborted"])
        XCTAssertEqual(inFlight.failure?.message,
                       "origin.test:8080 closed the HTTP/2 connection before the stream was complete")
        XCTAssertEqual(events(done), [], "its response was complete: nothing to fail")
    }

    func testATunnelGetsTheStreamsEventsAndCancelStillResetsIt() throws {
        let recorder = RecordingLegDelegate()
        let leg = makeLeg(recorder)
        leg.sendHead(.http2(HTTPHeaders([(":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "http"),
                                         (":authority", "origin.test:8080"), (":path", "/ws")])), endStream: false)
        exchangeFrames()
        try server.submitResponse(stream: 1, headers: HTTPHeaders([(":status", "200")]), endStream: false)
        exchangeFrames()
        XCTAssertEqual(events(recorder), ["started", "head 200 chunked"])
        let tunnel = StreamEvents()
        leg.relayStream(to: tunnel)
        server.send(data: Array("frame".utf8), stream: 1)
        exchangeFrames()
        XCTAssertEqual(tunnel.events, ["data frame"])
        XCTAssertEqual(events(recorder), [], "the tunnel's, not a response's")
        XCTAssertFalse(received.contains { if case .streamReset = $0 { return true } else { return false } })
        leg.cancel(code: .cancel)
        exchangeFrames()
        XCTAssertTrue(received.contains { if case .streamReset(1, .cancel) = $0 { return true } else { return false } })
    }

    // MARK: Recycling (`HTTP2StreamLegRecycler`)

    func testARecycledLegServesTheNextStreamAsANewOneWouldAndTheOldOwnerHearsNothing() throws {
        var recycler = HTTP2StreamLegRecycler()
        let first = RecordingLegDelegate(), second = RecordingLegDelegate()
        var firstLeg: HTTP2StreamLeg? = recycler.leg(on: connection, owner: first)
        let firstID = firstLeg.map(ObjectIdentifier.init)
        firstLeg?.sendHead(.http2(requestBlock(path: "/1")), endStream: true)
        firstLeg?.pauseReading(.clientSlow) // a pause left behind must not reach the next stream
        exchangeFrames()
        try server.submitResponse(stream: 1, headers: HTTPHeaders([(":status", "200"), ("content-length", "1")]),
                                  endStream: false)
        server.send(data: Array("1".utf8), stream: 1)
        server.finish(stream: 1)
        exchangeFrames()
        firstLeg?.cancel()
        XCTAssertEqual(events(first), [], "cancelled while paused: what waited is dropped")
        recycler.recycle(&firstLeg)
        XCTAssertNil(firstLeg, "the owner lets go of it")
        XCTAssertEqual(recycler.spareCount, 1)

        let secondLeg = recycler.leg(on: connection, owner: second)
        XCTAssertEqual(ObjectIdentifier(secondLeg), firstID, "the spare leg, not a new one")
        XCTAssertEqual(recycler.spareCount, 0)
        XCTAssertTrue(secondLeg.reused, "the connection carried a stream before")
        XCTAssertFalse(secondLeg.responseStarted)
        secondLeg.sendHead(.http2(requestBlock("HEAD", path: "/2")), endStream: true)
        XCTAssertEqual(secondLeg.stream, 3)
        exchangeFrames()
        try server.submitResponse(stream: 3, headers: HTTPHeaders([(":status", "200"), ("content-length", "9")]),
                                  endStream: true)
        exchangeFrames()
        XCTAssertEqual(events(second), ["started", "head 200 none", "end -", "closed NO_ERROR"],
                       "unpaused, and the framing follows its own request's method (HEAD)")
        XCTAssertEqual(events(first), [])
    }

    func testOnlyADetachedLegNobodyElseHoldsIsKeptForReuse() throws {
        var recycler = HTTP2StreamLegRecycler()
        let recorder = RecordingLegDelegate()
        var open: HTTP2StreamLeg? = recycler.leg(on: connection, owner: recorder)
        open?.sendHead(.http2(requestBlock()), endStream: true)
        exchangeFrames()
        recycler.recycle(&open)
        XCTAssertNil(open)
        XCTAssertEqual(recycler.spareCount, 0, "its stream is open: the connection still delivers its events")

        var shared: HTTP2StreamLeg? = recycler.leg(on: connection, owner: recorder)
        let otherHolder = shared
        shared?.cancel()
        recycler.recycle(&shared)
        XCTAssertEqual(recycler.spareCount, 0, "someone else still holds it")
        XCTAssertNotNil(otherHolder)

        for _ in 0...HTTP2StreamLegRecycler.capacity {
            var leg: HTTP2StreamLeg? = HTTP2StreamLeg(connection: connection, owner: recorder)
            leg?.cancel()
            recycler.recycle(&leg)
        }
        XCTAssertEqual(recycler.spareCount, HTTP2StreamLegRecycler.capacity)
        recycler.removeAll()
        XCTAssertEqual(recycler.spareCount, 0)
    }
}
