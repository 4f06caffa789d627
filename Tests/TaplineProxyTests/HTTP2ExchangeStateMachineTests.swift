import TaplineFlow
import TaplineHTTP2
@testable import TaplineHTTPClient
@testable import TaplineProxy
import TaplineWire
import XCTest

/// `HTTP2ExchangeStateMachine` as a Playbook: events in, exactly these actions out, for
/// the interleavings end-to-end tests cannot pin down (a client resetting while the
/// upstream connects, the stale keep-alive retry and a late leg, 1xx, trailers, early
/// request body and its credit, a backed-up capture, a slow client, deadlines firing
/// mid-body, NO_ERROR resets, the calm-down). No socket, no session, no clock.
final class HTTP2ExchangeStateMachineTests: XCTestCase {
    private typealias Playbook = HTTP2ExchangePlaybook

    private static let getStart = ["record flowStarted", "record http2Stream 1", "record requestHead GET /a",
                                   "record requestEnd 0", "openLeg #1"]
    private static let postStart = ["record flowStarted", "record http2Stream 1", "record requestHead POST /upload",
                                    "openLeg #1"]
    private static let stale = FlowError(.upstreamAborted, "origin.test:8080 closed the connection without sending a response")

    /// A bodiless GET sent over a kept-alive HTTP/1.1 leg.
    private func getOverAKeptHTTP1Leg(_ play: inout Playbook) {
        XCTAssertEqual(play.head(), Self.getStart)
        XCTAssertEqual(play.legOpened(1, .http1, reused: true),
                       ["record upstreamConnected reused", "sendHead h1 GET /a end", "armDeadline"])
    }

    /// A final 200 with `body` bytes, then its end, over an HTTP/1.1 leg; then the client's stream closes.
    /// `started`: a byte of the response (an interim head) came already.
    private func http1ResponseCompletes(_ play: inout Playbook, body: Int, started: Bool = false) {
        XCTAssertEqual(play.on { $0.responseStarted(now: $1, $2) }, started ? [] : ["disarmDeadline"])
        XCTAssertEqual(play.on { $0.responseHead(Playbook.http1Response(200, framing: .contentLength(body)),
                                                 webSocketKey: nil, now: $1, $2) },
                       ["record responseHead 200", "sendResponseHead 200"])
        XCTAssertEqual(play.on { $0.responseBody(Playbook.bytes(body), queuedToClient: 0, $2) },
                       ["record responseBody \(body)", "sendData \(body)"])
        XCTAssertEqual(play.on { $0.responseEnd(trailers: nil, now: $1, $2) },
                       ["record responseEnd \(body)", "finish", "releaseLeg"])
        XCTAssertEqual(play.on { $0.clientStreamClosed(.noError, now: $1, $2) },
                       ["record flowEnded ok 0/\(body)", "cancelLeg CANCEL"])
    }

    // MARK: Client resets while the upstream connects

    /// The client resets its stream while the leg is being acquired: the flow ends
    /// client-aborted once, the acquisition is given up, and the leg that arrives after
    /// is discarded, never sent the request.
    func testClientResetWhileTheUpstreamConnectsDiscardsTheLateLeg() {
        var play = Playbook("GET", "/a")
        XCTAssertEqual(play.head(), Self.getStart)
        XCTAssertEqual(play.on { $0.clientReset(.cancel, now: $1, $2) },
                       ["record streamReset client CANCEL", "record flowEnded client-aborted 0/0", "cancelLeg CANCEL"])
        XCTAssertEqual(play.legOpened(1), ["discardLeg"])
        XCTAssertEqual(play.on { $0.legFailedToOpen(attempt: 1, UpstreamFailure(error: FlowError(.upstreamUnreachable, "x")),
                                                    now: $1, $2) }, [])
        XCTAssertEqual(play.on { $0.clientStreamClosed(.cancel, now: $1, $2) }, ["cancelLeg CANCEL"],
                       "the flow ended once: the stream's close records nothing more")
    }

    // MARK: 1xx, trailers

    /// 100 Continue from an HTTP/1.1 leg, then the final response: the interim head is
    /// recorded and relayed as an HTTP/2 informational block, and the exchange goes on.
    func testInterimHeadThenTheFinalResponseOverHTTP1() {
        var play = Playbook("GET", "/a")
        XCTAssertEqual(play.head(), Self.getStart)
        XCTAssertEqual(play.legOpened(1, .http1), ["record upstreamConnected", "sendHead h1 GET /a end", "armDeadline"])
        XCTAssertEqual(play.on { $0.responseHead(Playbook.http1Response(100), webSocketKey: nil, now: $1, $2) },
                       ["disarmDeadline", "record responseHead 100", "sendInformational 100"])
        http1ResponseCompletes(&play, body: 2, started: true)
    }

    /// 103 from an HTTP/2 upstream stream, then its final block.
    func testInterimBlockThenTheFinalBlockOverHTTP2() {
        var play = Playbook("GET", "/a")
        _ = play.head()
        XCTAssertEqual(play.legOpened(1), ["record upstreamConnected", "sendHead h2 GET /a end", "armDeadline"])
        let early = LegResponseHead(received: HTTP2HeadTranslator.capturedResponse(Playbook.http2Block(103)),
                                    framing: .none, statedContentLength: nil)
        XCTAssertEqual(play.on { $0.responseHead(early, webSocketKey: nil, now: $1, $2) },
                       ["record responseHead 103", "sendInformational 103"])
        XCTAssertEqual(play.on { $0.responseStarted(now: $1, $2) }, ["disarmDeadline"])
        XCTAssertEqual(play.on { $0.responseBlock(Playbook.http2Block(200), endsStream: true, now: $1, $2) },
                       ["record responseHead 200", "sendResponseHead 200 end"])
        XCTAssertEqual(play.on { $0.responseEnd(trailers: nil, now: $1, $2) }, ["record responseEnd 0", "finish"])
        XCTAssertEqual(play.on { $0.clientStreamClosed(.noError, now: $1, $2) }, ["record flowEnded ok 0/0", "cancelLeg CANCEL"])
    }

    /// Request trailers go upstream with the request's end; response trailers end the client's stream.
    func testTrailersBothWays() {
        var play = Playbook("POST", "/upload")
        XCTAssertEqual(play.head(endStream: false), Self.postStart)
        XCTAssertEqual(play.legOpened(1), ["record upstreamConnected", "sendHead h2 POST /upload", "armDeadline"])
        XCTAssertEqual(play.on { m, _, sink in m.requestBody(Playbook.bytes(5), sink) }, ["record requestBody 5", "sendBody 5"])
        XCTAssertEqual(play.on { m, _, sink in m.requestBodyFramed(5, sink) }, ["credit 5"])
        XCTAssertEqual(play.on { $0.requestTrailers(HTTPHeaders([("x-checksum", "abc")]), now: $1, $2) },
                       ["record requestEnd 5 [x-checksum: abc]", "sendEnd [x-checksum: abc]"])
        XCTAssertEqual(play.on { $0.responseStarted(now: $1, $2) }, ["disarmDeadline"])
        XCTAssertEqual(play.on { $0.responseBlock(Playbook.http2Block(200), endsStream: false, now: $1, $2) },
                       ["record responseHead 200", "sendResponseHead 200"])
        XCTAssertEqual(play.on { $0.responseBody(Playbook.bytes(3), queuedToClient: 0, $2) },
                       ["record responseBody 3", "sendData 3"])
        XCTAssertEqual(play.on { $0.responseEnd(trailers: HTTPHeaders([("grpc-status", "0")]), now: $1, $2) },
                       ["record responseEnd 3 [grpc-status: 0]", "finish [grpc-status: 0]"])
        XCTAssertEqual(play.on { $0.clientStreamClosed(.noError, now: $1, $2) }, ["record flowEnded ok 5/3", "cancelLeg CANCEL"])
    }

    // MARK: Request body and credit

    /// Body arriving before the HTTP/1.1 leg is held, then sent in order after the head;
    /// the client gets its credit only once the leg's socket took it.
    func testRequestBodyBeforeTheHTTP1LegIsSentInOrderAndCreditedWhenWritten() {
        var play = Playbook("POST", "/upload")
        XCTAssertEqual(play.head(endStream: false), Self.postStart)
        XCTAssertEqual(play.on { m, _, sink in m.requestBody(Playbook.bytes(3), sink) }, ["record requestBody 3"])
        XCTAssertEqual(play.on { m, _, sink in m.requestBody(Playbook.bytes(4), sink) }, ["record requestBody 4"])
        XCTAssertEqual(play.on { $0.requestEnd(now: $1, $2) }, ["record requestEnd 7"])
        XCTAssertEqual(play.machine.clientUnconsumed, 7, "nothing is credited before the upstream took it")
        XCTAssertEqual(play.legOpened(1, .http1),
                       ["record upstreamConnected", "sendHead h1 POST /upload", "sendBody 3", "sendBody 4", "sendEnd",
                        "armDeadline"])
        XCTAssertEqual(play.on { m, _, sink in m.legWritable(sink) }, ["credit 7"])
        XCTAssertEqual(play.on { m, _, sink in m.legWritable(sink) }, [], "credited once")
    }

    /// Over an HTTP/2 leg the credit follows what its session framed, never more than was received.
    func testRequestBodyBeforeTheHTTP2LegIsCreditedAsItIsFramed() {
        var play = Playbook("POST", "/upload")
        _ = play.head(endStream: false)
        _ = play.on { m, _, sink in m.requestBody(Playbook.bytes(3), sink) }
        _ = play.on { m, _, sink in m.requestBody(Playbook.bytes(4), sink) }
        XCTAssertEqual(play.legOpened(1), ["record upstreamConnected", "sendHead h2 POST /upload", "sendBody 3", "sendBody 4",
                                           "armDeadline"])
        XCTAssertEqual(play.on { m, _, sink in m.requestBodyFramed(3, sink) }, ["credit 3"])
        XCTAssertEqual(play.on { m, _, sink in m.requestBodyFramed(9, sink) }, ["credit 4"])
        XCTAssertEqual(play.on { m, _, sink in m.requestBodyFramed(1, sink) }, [])
        XCTAssertEqual(play.on { $0.requestEnd(now: $1, $2) }, ["record requestEnd 7", "sendEnd"])
    }

    // MARK: Pausing an HTTP/1.1 leg

    /// A backed-up capture pauses the HTTP/1.1 leg (and one adopted meanwhile); the
    /// capture draining resumes only that reason, not what a slow client holds.
    func testCaptureBackedUpPausesTheHTTP1LegAndTheDrainResumesOnlyThatReason() {
        var play = Playbook("GET", "/a")
        _ = play.head()
        XCTAssertEqual(play.on { m, _, sink in m.captureBackedUpReported(sink) }, [], "no leg yet")
        XCTAssertEqual(play.legOpened(1, .http1),
                       ["record upstreamConnected", "pauseLeg captureBackedUp", "sendHead h1 GET /a end", "armDeadline"])
        XCTAssertEqual(play.on { m, _, sink in m.captureDrained(sink) }, ["resumeLeg captureBackedUp"])
        _ = play.on { $0.responseStarted(now: $1, $2) }
        _ = play.on { $0.responseHead(Playbook.http1Response(200, framing: .contentLength(1 << 20)), webSocketKey: nil,
                                      now: $1, $2) }
        let full = HTTPClientBufferLimits.http2StreamSendQueue
        XCTAssertEqual(play.on { $0.responseBody(Playbook.bytes(16_384), queuedToClient: full, $2) },
                       ["record responseBody 16384", "sendData 16384", "pauseLeg clientSlow"])
        XCTAssertEqual(play.on { m, _, sink in m.captureBackedUpReported(sink) }, ["pauseLeg captureBackedUp"])
        XCTAssertEqual(play.on { m, _, sink in m.captureDrained(sink) }, ["resumeLeg captureBackedUp"],
                       "the slow client still holds the leg")
        XCTAssertEqual(play.on { $0.responseDelivered(16_384, queuedToClient: 0, $2) }, ["resumeLeg clientSlow"])
    }

    /// A large download to a client that reads slowly: the HTTP/1.1 leg pauses once the
    /// stream's queue is full and resumes when the session framed it below; an HTTP/2 leg
    /// is never paused (its window holds it back) and gets its credit back instead.
    func testLargeDownloadToASlowClientPausesTheHTTP1Leg() {
        var play = Playbook("GET", "/big")
        _ = play.head()
        _ = play.legOpened(1, .http1)
        _ = play.on { $0.responseStarted(now: $1, $2) }
        _ = play.on { $0.responseHead(Playbook.http1Response(200, framing: .contentLength(1 << 24)), webSocketKey: nil,
                                      now: $1, $2) }
        let full = HTTPClientBufferLimits.http2StreamSendQueue
        XCTAssertEqual(play.on { $0.responseBody(Playbook.bytes(100), queuedToClient: full - 200, $2) },
                       ["record responseBody 100", "sendData 100"])
        XCTAssertEqual(play.on { $0.responseBody(Playbook.bytes(300), queuedToClient: full + 100, $2) },
                       ["record responseBody 300", "sendData 300", "pauseLeg clientSlow"])
        XCTAssertEqual(play.on { $0.responseBody(Playbook.bytes(10), queuedToClient: full + 110, $2) },
                       ["record responseBody 10", "sendData 10"], "paused once")
        XCTAssertEqual(play.on { $0.responseDelivered(16_384, queuedToClient: full, $2) }, [], "still full")
        XCTAssertEqual(play.on { $0.responseDelivered(16_384, queuedToClient: full - 1, $2) }, ["resumeLeg clientSlow"])

        var overHTTP2 = Playbook("GET", "/big")
        _ = overHTTP2.head()
        _ = overHTTP2.legOpened(1)
        _ = overHTTP2.on { $0.responseStarted(now: $1, $2) }
        _ = overHTTP2.on { $0.responseBlock(Playbook.http2Block(200), endsStream: false, now: $1, $2) }
        XCTAssertEqual(overHTTP2.on { $0.responseBody(Playbook.bytes(300), queuedToClient: full + 100, $2) },
                       ["record responseBody 300", "sendData 300"])
        XCTAssertEqual(overHTTP2.on { $0.responseDelivered(300, queuedToClient: 0, $2) }, ["legConsumed 300"])
    }

    // MARK: Response deadline

    /// The deadline passes while the client still uploads: 504 with the upstream and the
    /// timeout in its message; the rest of the upload is credited and dropped, and its
    /// end still recorded.
    func testResponseDeadlineMidRequestBodyAnswers504() {
        var play = Playbook("POST", "/upload")
        _ = play.head(endStream: false)
        _ = play.legOpened(1)
        XCTAssertEqual(play.on { m, _, sink in m.requestBody(Playbook.bytes(10), sink) }, ["record requestBody 10", "sendBody 10"])
        play.advance(milliseconds: 60_000)
        XCTAssertEqual(play.on { $0.responseDeadlinePassed(now: $1, $2) },
                       ["record flowEnded upstream-timeout 10/0", "cancelLeg CANCEL",
                        "answer 504: origin.test:8080 sent no response within 60 s"])
        XCTAssertEqual(play.on { m, _, sink in m.requestBody(Playbook.bytes(5), sink) }, ["credit 5"])
        XCTAssertEqual(play.on { $0.requestEnd(now: $1, $2) }, ["record requestEnd 10"])
        XCTAssertEqual(play.on { $0.clientStreamClosed(.noError, now: $1, $2) }, ["cancelLeg CANCEL", "credit 10"],
                       "the bytes never framed upstream are credited when the stream closes")
    }

    func testNoGatewayTimeoutOnceTheResponseStarted() {
        var play = Playbook("GET", "/a")
        _ = play.head()
        _ = play.legOpened(1)
        _ = play.on { $0.responseStarted(now: $1, $2) }
        _ = play.on { $0.responseBlock(Playbook.http2Block(200), endsStream: false, now: $1, $2) }
        play.advance(milliseconds: 60_000)
        XCTAssertEqual(play.on { $0.responseDeadlinePassed(now: $1, $2) }, [])
    }

    // MARK: Stale keep-alive retry (HTTP/1.1 legs)

    /// A bodiless GET over a reused connection that closed before any response byte is
    /// sent once more, on a fresh connection, and then answered.
    func testStaleRetryOfABodilessGETOnAFreshConnection() {
        var play = Playbook("GET", "/a")
        getOverAKeptHTTP1Leg(&play)
        XCTAssertEqual(play.on { $0.legFailed(Self.stale, now: $1, $2) },
                       ["disarmDeadline", "cancelLeg CANCEL", "openLeg #2 retry"])
        XCTAssertEqual(play.legOpened(2, .http1), ["record upstreamConnected", "sendHead h1 GET /a end", "armDeadline"])
        http1ResponseCompletes(&play, body: 2)
    }

    func testStaleRetryIsRefusedForPOST() {
        var play = Playbook("POST", "/submit")
        _ = play.head()
        _ = play.legOpened(1, .http1, reused: true)
        XCTAssertEqual(play.on { $0.legFailed(Self.stale, now: $1, $2) },
                       ["record flowEnded upstream-aborted 0/0", "cancelLeg CANCEL", "answer 502: \(Self.stale.message)"])
    }

    func testStaleRetryIsRefusedAfterAResponseByte() {
        var play = Playbook("GET", "/a")
        getOverAKeptHTTP1Leg(&play)
        _ = play.on { $0.responseStarted(now: $1, $2) }
        XCTAssertEqual(play.on { $0.legFailed(FlowError(.badResponse, "garbage"), now: $1, $2) },
                       ["record flowEnded bad-response 0/0", "cancelLeg CANCEL", "answer 502: garbage"])
    }

    /// The second sending fails too, on a connection that claims reuse: 502, not a third attempt.
    func testStaleRetryHappensAtMostOnce() {
        var play = Playbook("GET", "/a")
        getOverAKeptHTTP1Leg(&play)
        _ = play.on { $0.legFailed(Self.stale, now: $1, $2) }
        _ = play.legOpened(2, .http1, reused: true)
        XCTAssertEqual(play.on { $0.legFailed(Self.stale, now: $1, $2) },
                       ["record flowEnded upstream-aborted 0/0", "cancelLeg CANCEL", "answer 502: \(Self.stale.message)"])
    }

    // MARK: HTTP/2 upstream streams ending early

    /// A stream the upstream refused (GOAWAY, REFUSED_STREAM) is refused to the client,
    /// which may retry it: never resent by Tapline.
    func testRefusedUpstreamStreamIsRefusedToTheClientWithoutRetry() {
        var play = Playbook("GET", "/a")
        _ = play.head()
        _ = play.legOpened(1)
        XCTAssertEqual(play.on { $0.upstreamStreamEnded(.closed(.refusedStream), now: $1, $2) },
                       ["cancelLeg CANCEL", "record flowEnded upstream-aborted 0/0", "resetClient REFUSED_STREAM afterQueued"])
        XCTAssertEqual(play.on { $0.clientStreamClosed(.refusedStream, now: $1, $2) }, ["cancelLeg CANCEL"])
    }

    /// The shared upstream goes away (GOAWAY, its connection closing) while the exchange
    /// awaits its retried leg: what reaches the exchange then belongs to the leg it gave
    /// up and changes nothing; the retried request completes on its fresh leg, and the
    /// flow is recorded once.
    func testUpstreamGoingAwayDuringARetryLeavesTheRetryToComplete() {
        var play = Playbook("GET", "/a")
        getOverAKeptHTTP1Leg(&play)
        XCTAssertEqual(play.on { $0.legFailed(Self.stale, now: $1, $2) },
                       ["disarmDeadline", "cancelLeg CANCEL", "openLeg #2 retry"])
        XCTAssertEqual(play.on { $0.upstreamStreamEnded(.closed(.refusedStream), now: $1, $2) }, [])
        XCTAssertEqual(play.on { $0.upstreamLost(FlowError(.upstreamAborted, "connection closed"), now: $1, $2) }, [])
        XCTAssertEqual(play.on { $0.legFailed(FlowError(.upstreamAborted, "connection closed"), now: $1, $2) }, [])
        XCTAssertEqual(play.on { $0.legFailedToOpen(attempt: 1, UpstreamFailure(error: FlowError(.upstreamUnreachable, "x")),
                                                    now: $1, $2) }, [])
        XCTAssertEqual(play.legOpened(1, .http1), ["discardLeg"], "only the retry's attempt is taken")
        XCTAssertEqual(play.legOpened(2, .http1), ["record upstreamConnected", "sendHead h1 GET /a end", "armDeadline"])
        http1ResponseCompletes(&play, body: 2)
    }

    /// NO_ERROR after a complete response while the client still uploads (RFC 9113 §8.1):
    /// the flow ends cleanly, the client is asked to stop after our END_STREAM, and what
    /// it still sends is credited and dropped.
    func testNoErrorResetAfterACompleteResponseEndsTheFlowAndStopsTheClient() {
        var play = Playbook("POST", "/upload")
        _ = play.head(endStream: false)
        _ = play.legOpened(1)
        _ = play.on { m, _, sink in m.requestBody(Playbook.bytes(100), sink) }
        _ = play.on { $0.responseStarted(now: $1, $2) }
        _ = play.on { $0.responseBlock(Playbook.http2Block(200), endsStream: true, now: $1, $2) }
        XCTAssertEqual(play.on { $0.responseEnd(trailers: nil, now: $1, $2) }, ["record responseEnd 0", "finish"])
        XCTAssertEqual(play.on { $0.upstreamStreamEnded(.resetByUpstream(.noError), now: $1, $2) },
                       ["record streamReset upstream NO_ERROR", "record flowEnded ok 100/0", "stopPeerAfterOurEnd"])
        XCTAssertEqual(play.on { m, _, sink in m.requestBody(Playbook.bytes(50), sink) }, ["credit 50"])
        XCTAssertEqual(play.on { $0.clientStreamClosed(.noError, now: $1, $2) }, ["cancelLeg CANCEL", "credit 100"])
    }

    /// A reset before the response completed reaches the client with the upstream's code
    /// (NO_ERROR becomes INTERNAL_ERROR), after what was relayed.
    func testUpstreamResetMidResponseResetsTheClientStream() {
        var play = Playbook("GET", "/a")
        _ = play.head()
        _ = play.legOpened(1)
        _ = play.on { $0.responseStarted(now: $1, $2) }
        _ = play.on { $0.responseBlock(Playbook.http2Block(200), endsStream: false, now: $1, $2) }
        _ = play.on { $0.responseBody(Playbook.bytes(7), queuedToClient: 0, $2) }
        XCTAssertEqual(play.on { $0.upstreamStreamEnded(.resetByUpstream(.noError), now: $1, $2) },
                       ["record streamReset upstream NO_ERROR", "cancelLeg CANCEL", "record flowEnded upstream-aborted 0/7",
                        "resetClient INTERNAL_ERROR afterQueued"])
    }

    // MARK: Failures answered

    /// A HEAD request's 502 is a head only (RFC 9110 §9.3.2).
    func testHEADIsAnswered502WithoutBody() {
        var play = Playbook("HEAD", "/a")
        _ = play.head()
        _ = play.legOpened(1)
        XCTAssertEqual(play.on { $0.legFailed(FlowError(.upstreamAborted, "connection lost"), now: $1, $2) },
                       ["record flowEnded upstream-aborted 0/0", "cancelLeg CANCEL", "answer 502 head only: connection lost"])
    }

    /// The leg fails inside `sendHead` (the connection takes no new stream): the exchange
    /// fails there, and nothing more of `legOpened` is carried out.
    func testLegFailingInsideSendHeadStopsTheRestOfTheOpening() {
        var play = Playbook("POST", "/upload")
        _ = play.head(endStream: false)
        _ = play.on { m, _, sink in m.requestBody(Playbook.bytes(3), sink) }
        let machine = play.machine
        let sink = play.sink
        sink.onPerform = { action in
            guard case .sendHead = action else { return }
            machine.legFailed(FlowError(.upstreamUnreachable, "no new stream"), now: Timestamp(microseconds: 0), sink)
        }
        XCTAssertEqual(play.legOpened(1), ["record upstreamConnected", "sendHead h2 POST /upload",
                                           "record flowEnded upstream-unreachable 3/0", "cancelLeg CANCEL",
                                           "answer 502: no new stream"])
    }

    /// The calm-down cuts a stream still waiting for the client's input; a complete request is still answered.
    func testCalmDownCutsAnUnfinishedUploadOnly() {
        let calm = FlowError(.badRequest, "Tapline ended the connection before the stream was complete: calm down")
        var uploading = Playbook("POST", "/upload")
        _ = uploading.head(endStream: false)
        _ = uploading.legOpened(1)
        _ = uploading.on { m, _, sink in m.requestBody(Playbook.bytes(5), sink) }
        XCTAssertEqual(uploading.on { $0.calmDownCut(calm, now: $1, $2) },
                       ["record flowEnded bad-request 5/0", "cancelLeg CANCEL", "resetClient ENHANCE_YOUR_CALM afterQueued"])

        var complete = Playbook("GET", "/a")
        _ = complete.head()
        _ = complete.legOpened(1)
        XCTAssertEqual(complete.on { $0.calmDownCut(calm, now: $1, $2) }, [])
    }

    // MARK: WebSocket (RFC 8441)

    /// An extended CONNECT: the bridge is prepared and the request is complete with its
    /// head; an HTTP/2 upstream's 2xx hands the stream to the relay, which then hears the client's reset.
    func testExtendedConnectHandsTheStreamToTheWebSocketRelay() {
        var play = Playbook("CONNECT", "/chat")
        XCTAssertEqual(play.head(endStream: false),
                       ["record flowStarted", "record http2Stream 1", "record requestHead CONNECT /chat", "prepareWebSocket",
                        "record requestEnd 0", "openLeg #1"])
        XCTAssertEqual(play.legOpened(1), ["record upstreamConnected", "sendHead h2 CONNECT /chat", "armDeadline"])
        _ = play.on { $0.responseStarted(now: $1, $2) }
        XCTAssertEqual(play.on { $0.responseBlock(Playbook.http2Block(200), endsStream: false, now: $1, $2) },
                       ["record responseHead 200", "startWebSocketRelay 200"])
        XCTAssertEqual(play.on { $0.clientReset(.cancel, now: $1, $2) },
                       ["record streamReset client CANCEL", "passResetToRelay CANCEL"])
        XCTAssertEqual(play.on { $0.abort(now: $1, $2) }, [], "the relay owns the flow")
    }
}
