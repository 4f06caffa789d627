import TaplineFlow
@testable import TaplineHTTPClient
@testable import TaplineProxy
import TaplineWire
import XCTest

/// `HTTP1ExchangeStateMachine` as a Playbook: events in, exactly these actions out,
/// for the interleavings end-to-end tests cannot pin down (a client leaving while the
/// upstream connects, the stale keep-alive retry, 1xx, trailers, a backed-up capture,
/// deadlines firing mid-body). No socket, no clock: the test moves time itself.
final class HTTP1ExchangeStateMachineTests: XCTestCase {
    private typealias Playbook = HTTP1ExchangePlaybook

    /// A GET that went over a kept-alive leg (`reused`) and has been sent whole.
    private func getSentOverAKeptLeg(_ play: inout Playbook) {
        XCTAssertEqual(play.request("GET", "/a"),
                       ["disarm", "record flowStarted", "record requestHead GET /a", "openLeg #1 reuse"])
        XCTAssertEqual(play.on { $0.legOpened(attempt: 1, reused: true, server: "127.0.0.1:8080", tls: nil, now: $1, $2) },
                       ["adoptLeg", "record upstreamConnected reused", "arm response 60000", "sendHead GET /a end",
                        "pullClient"])
        XCTAssertEqual(play.on { $0.requestEnd(trailers: nil, now: $1, $2) }, ["record requestEnd 0", "sendEnd"])
    }

    // MARK: Client leaves while the upstream connects

    /// The client closes while its leg is still connecting: nothing was ever written
    /// upstream, the flow ends client-aborted, and the leg that connects afterwards is
    /// closed, not used.
    func testClientClosingWhileTheUpstreamConnectsEndsTheFlowAndDiscardsTheLateLeg() {
        var play = Playbook()
        XCTAssertEqual(play.request("GET", "/slow"),
                       ["disarm", "record flowStarted", "record requestHead GET /slow", "openLeg #1 reuse"])
        XCTAssertEqual(play.on { $0.clientClosed(now: $1, $2) },
                       ["disarm", "record flowEnded client-aborted 0/0", "cancelLeg"])
        XCTAssertEqual(play.on { $0.legOpened(attempt: 1, reused: false, server: "127.0.0.1:8080", tls: nil, now: $1, $2) },
                       ["discardLeg"], "a leg that arrives after the client left is closed, never sent the request")
        XCTAssertEqual(play.on { $0.legFailedToOpen(attempt: 1, UpstreamFailure(error: FlowError(.upstreamUnreachable, "x")),
                                                    now: $1, $2) }, [])
        XCTAssertTrue(play.machine.isClosed)
    }

    /// A FIN while connecting, with the request not yet pulled whole (its end is still
    /// in the parser): the FIN is judged by that request, which did not ask to close.
    func testClientFINWhileTheUpstreamConnectsAbortsAndClosesTheClient() {
        var play = Playbook()
        _ = play.request("GET", "/slow")
        var pipelined = HTTP1RequestParser()
        pipelined.append(Array("GET /next HTTP/1.1\r\nHost: o\r\n\r\n".utf8))
        XCTAssertEqual(play.on { $0.clientSentEOF(pipelined: pipelined, now: $1, $2) },
                       ["disarm", "record flowEnded client-aborted 0/0", "cancelLeg", "closeClient"])
        XCTAssertEqual(play.on { $0.legOpened(attempt: 1, reused: false, server: "s", tls: nil, now: $1, $2) }, ["discardLeg"])
    }

    // MARK: Stale keep-alive retry

    /// A bodiless GET over a reused connection that closed before any response byte is
    /// sent once more, on a fresh connection (never the kept one), and then answered.
    func testStaleKeepAliveRetryOfABodilessGETOnAFreshConnection() {
        var play = Playbook()
        getSentOverAKeptLeg(&play)
        XCTAssertEqual(play.on { $0.legFailed(FlowError(.upstreamAborted, "closed"), now: $1, $2) }, ["openLeg #2 fresh"])
        XCTAssertEqual(play.on { $0.legOpened(attempt: 2, reused: false, server: "127.0.0.1:8080", tls: nil, now: $1, $2) },
                       ["adoptLeg", "record upstreamConnected", "arm response 60000", "sendHead GET /a end", "pullClient"])
        XCTAssertFalse(play.machine.acceptsRequestEvents, "the request was complete: its end is not sent again")
        XCTAssertEqual(play.on { $0.responseStarted(now: $1, $2) }, ["disarm"])
        XCTAssertEqual(play.on { $0.responseHead(Playbook.response(200, framing: .contentLength(2)), now: $1, $2) },
                       ["record responseHead 200", "sendResponseHead 200"])
        XCTAssertEqual(play.on { m, _, sink in m.responseBody(Playbook.bytes("ok"), sink) }, ["writeBody 2", "record responseBody 2"])
        XCTAssertEqual(play.on { $0.responseEnd(trailers: nil, now: $1, $2) },
                       ["record responseEnd 2", "record flowEnded ok 0/2", "finishExchange keepLeg", "arm idle 120000",
                        "pullClient"])
    }

    func testStaleRetryIsRefusedForPOST() {
        var play = Playbook()
        _ = play.request("POST", "/submit", headers: [("Content-Length", "0")])
        _ = play.on { $0.legOpened(attempt: 1, reused: true, server: "s", tls: nil, now: $1, $2) }
        _ = play.on { $0.requestEnd(trailers: nil, now: $1, $2) }
        XCTAssertEqual(play.on { $0.legFailed(FlowError(.upstreamAborted, "closed"), now: $1, $2) },
                       ["disarm", "record flowEnded upstream-aborted 0/0", "cancelLeg", "answer 502"])
    }

    func testStaleRetryIsRefusedForAGETWithABody() {
        var play = Playbook()
        _ = play.request("GET", "/search", framing: .contentLength(3))
        XCTAssertEqual(play.on { $0.legOpened(attempt: 1, reused: true, server: "s", tls: nil, now: $1, $2) },
                       ["adoptLeg", "record upstreamConnected reused", "arm response 60000", "sendHead GET /search",
                        "pullClient"])
        XCTAssertEqual(play.on { $0.requestBody(Playbook.bytes("q=1"), $2) }, ["arm response 60000", "record requestBody 3", "sendBody 3"],
                       "each body chunk re-arms the response deadline")
        XCTAssertEqual(play.on { $0.requestEnd(trailers: nil, now: $1, $2) },
                       ["record requestEnd 3", "sendEnd"])
        XCTAssertEqual(play.on { $0.legFailed(FlowError(.upstreamAborted, "closed"), now: $1, $2) },
                       ["disarm", "record flowEnded upstream-aborted 3/0", "cancelLeg", "answer 502"])
    }

    func testStaleRetryIsRefusedAfterAResponseByte() {
        var play = Playbook()
        getSentOverAKeptLeg(&play)
        XCTAssertEqual(play.on { $0.responseStarted(now: $1, $2) }, ["disarm"])
        XCTAssertEqual(play.on { $0.legFailed(FlowError(.badResponse, "garbage"), now: $1, $2) },
                       ["disarm", "record flowEnded bad-response 0/0", "cancelLeg", "answer 502"])
    }

    /// The second sending fails too (on a connection that claims reuse, so only
    /// "already resent" forbids a third): 502, not another attempt.
    func testStaleRetryHappensAtMostOnce() {
        var play = Playbook()
        getSentOverAKeptLeg(&play)
        XCTAssertEqual(play.on { $0.legFailed(FlowError(.upstreamAborted, "closed"), now: $1, $2) }, ["openLeg #2 fresh"])
        _ = play.on { $0.legOpened(attempt: 2, reused: true, server: "s", tls: nil, now: $1, $2) }
        XCTAssertEqual(play.on { $0.legFailed(FlowError(.upstreamAborted, "closed again"), now: $1, $2) },
                       ["disarm", "record flowEnded upstream-aborted 0/0", "cancelLeg", "answer 502"])
    }

    // MARK: 1xx then final

    /// 100 Continue, then the body, then the final response: the interim head is
    /// recorded and relayed, and the exchange goes on.
    func testHundredContinueIsRelayedThenTheBodyThenTheFinalResponse() {
        var play = Playbook()
        _ = play.request("POST", "/upload", framing: .contentLength(5), headers: [("Expect", "100-continue")])
        _ = play.on { $0.legOpened(attempt: 1, reused: false, server: "s", tls: nil, now: $1, $2) }
        XCTAssertEqual(play.on { $0.responseStarted(now: $1, $2) }, ["disarm"])
        XCTAssertEqual(play.on { $0.responseHead(Playbook.response(100), now: $1, $2) },
                       ["record responseHead 100", "sendInterimHead 100"])
        XCTAssertEqual(play.on { m, _, sink in m.requestBody(Playbook.bytes("hello"), sink) }, ["record requestBody 5", "sendBody 5"],
                       "the response started: no response deadline is re-armed")
        XCTAssertEqual(play.on { $0.requestEnd(trailers: nil, now: $1, $2) }, ["record requestEnd 5", "sendEnd"])
        XCTAssertEqual(play.on { $0.responseHead(Playbook.response(201, framing: .contentLength(0)), now: $1, $2) },
                       ["record responseHead 201", "sendResponseHead 201"])
        XCTAssertEqual(play.on { $0.responseEnd(trailers: nil, now: $1, $2) },
                       ["record responseEnd 0", "record flowEnded ok 5/0", "finishExchange keepLeg", "arm idle 120000",
                        "pullClient"])
    }

    /// 103 Early Hints keeps its Link fields toward the client, loses hop-by-hop ones;
    /// an HTTP/1.0 client gets no interim head at all (but the capture has it).
    func testEarlyHintsAreRelayedWithoutHopByHopFieldsAndNotToHTTP10Clients() throws {
        var play = Playbook()
        _ = play.request("GET", "/page")
        _ = play.on { $0.legOpened(attempt: 1, reused: false, server: "s", tls: nil, now: $1, $2) }
        let hints = Playbook.response(103, headers: [("Link", "</style.css>; rel=preload"), ("Connection", "x-hop"),
                                                     ("X-Hop", "1")])
        XCTAssertEqual(play.on { $0.responseHead(hints, now: $1, $2) }, ["record responseHead 103", "sendInterimHead 103"])
        guard case .action(.sendInterimHead(let interim)) = play.last[1] else { return XCTFail("no interim head") }
        XCTAssertEqual(interim.headers.first(name: "Link"), "</style.css>; rel=preload")
        XCTAssertNil(interim.headers.first(name: "X-Hop"))
        XCTAssertNil(interim.headers.first(name: "Connection"))

        var old = Playbook()
        _ = old.request("GET", "/page", version: .http1_0)
        _ = old.on { $0.legOpened(attempt: 1, reused: false, server: "s", tls: nil, now: $1, $2) }
        XCTAssertEqual(old.on { $0.responseHead(hints, now: $1, $2) }, ["record responseHead 103"])
    }

    // MARK: Trailers both ways

    /// Request trailers go to the leg as received (the leg drops framing fields,
    /// `HTTP1ClientLegTests`); response trailers are recorded as received and reach the
    /// client in the last chunk without framing and hop-by-hop fields.
    func testTrailersBothWays() throws {
        var play = Playbook()
        _ = play.request("POST", "/rpc", framing: .chunked, headers: [("Transfer-Encoding", "chunked"), ("TE", "trailers")])
        _ = play.on { $0.legOpened(attempt: 1, reused: false, server: "s", tls: nil, now: $1, $2) }
        _ = play.on { m, _, sink in m.requestBody(Playbook.bytes("ping"), sink) }
        let requestTrailers = HTTPHeaders([("X-Checksum", "abc"), ("Content-Length", "9")])
        XCTAssertEqual(play.on { $0.requestEnd(trailers: requestTrailers, now: $1, $2) },
                       ["record requestEnd 4 [X-Checksum: abc, Content-Length: 9]",
                        "sendEnd [X-Checksum: abc, Content-Length: 9]"])
        _ = play.on { $0.responseStarted(now: $1, $2) }
        XCTAssertEqual(play.on { $0.responseHead(Playbook.response(200, framing: .chunked), now: $1, $2) },
                       ["record responseHead 200", "sendResponseHead 200"])
        XCTAssertEqual(play.on { m, _, sink in m.responseBody(Playbook.bytes("pong"), sink) }, ["writeBody 4 chunked", "record responseBody 4"])
        let responseTrailers = HTTPHeaders([("grpc-status", "0"), ("Content-Length", "1"), ("Transfer-Encoding", "x"),
                                            ("Connection", "close")])
        XCTAssertEqual(play.on { $0.responseEnd(trailers: responseTrailers, now: $1, $2) },
                       ["writeLastChunk [grpc-status: 0]",
                        "record responseEnd 4 [grpc-status: 0, Content-Length: 1, Transfer-Encoding: x, Connection: close]",
                        "record flowEnded ok 4/4", "finishExchange keepLeg", "arm idle 120000", "pullClient"])
    }

    // MARK: Capture backed up

    /// A backed-up capture pauses the client's reading and the leg (`.captureBackedUp`);
    /// its drain resumes exactly those, never what a slow client holds; a leg adopted
    /// meanwhile starts paused.
    func testCaptureBackedUpPausesClientAndLegAndItsDrainResumesOnlyThat() {
        var play = Playbook()
        _ = play.request("GET", "/big")
        XCTAssertEqual(play.on { m, _, sink in m.captureBackedUpReported(sink) },
                       ["updateClientReading", "pauseLeg captureBackedUp", "waitForCaptureDrain"])
        XCTAssertTrue(play.machine.captureBackedUp, "the shell reads this to stop reading the client")
        XCTAssertEqual(play.on { m, _, sink in m.captureBackedUpReported(sink) }, [], "one wait for one backlog")
        XCTAssertEqual(play.on { $0.legOpened(attempt: 1, reused: false, server: "s", tls: nil, now: $1, $2) },
                       ["adoptLeg paused captureBackedUp", "record upstreamConnected", "arm response 60000",
                        "sendHead GET /big end", "pullClient"])
        XCTAssertEqual(play.on { m, _, sink in m.clientWritabilityChanged(false, sink) }, ["pauseLeg clientSlow"])
        XCTAssertEqual(play.on { m, _, sink in m.captureDrained(sink) }, ["updateClientReading", "resumeLeg captureBackedUp"])
        XCTAssertFalse(play.machine.captureBackedUp)
        XCTAssertEqual(play.machine.legPauses, .clientSlow, "the slow client still holds the leg")
        XCTAssertEqual(play.on { m, _, sink in m.captureDrained(sink) }, [], "a second drain resumes nothing")
        XCTAssertEqual(play.on { m, _, sink in m.clientWritabilityChanged(true, sink) }, ["resumeLeg clientSlow"])
        XCTAssertEqual(play.machine.legPauses, [])
    }

    // MARK: Deadlines (fake clock)

    /// The response deadline is re-armed by each request body chunk and fires while the
    /// body still streams: 504, the flow ends upstream-timeout at the time it fired.
    func testResponseDeadlineFiringWhileTheRequestBodyStreams() throws {
        var timeouts = ProxyTimeouts()
        timeouts.response = 2_000
        var play = Playbook(timeouts: timeouts)
        _ = play.request("PUT", "/file", framing: .contentLength(10))
        XCTAssertEqual(play.on { $0.legOpened(attempt: 1, reused: false, server: "s", tls: nil, now: $1, $2) },
                       ["adoptLeg", "record upstreamConnected", "arm response 2000", "sendHead PUT /file", "pullClient"])
        play.advance(milliseconds: 1_500)
        XCTAssertEqual(play.on { m, _, sink in m.requestBody(Playbook.bytes("01234"), sink) },
                       ["arm response 2000", "record requestBody 5", "sendBody 5"])
        play.advance(milliseconds: 2_000)
        XCTAssertEqual(play.on { $0.deadlineFired(now: $1, clientInputIdle: false, $2) },
                       ["disarm", "record flowEnded upstream-timeout 5/0", "cancelLeg", "answer 504"])
        guard case .record(.flowEnded(_, let timings, _, _, let error, let time)) = play.last[1] else {
            return XCTFail("no flowEnded")
        }
        XCTAssertEqual(time, play.now)
        XCTAssertEqual(timings.done, play.now)
        XCTAssertEqual(error?.message, "origin.test:8080 sent no response within 2 s")
        XCTAssertFalse(play.machine.acceptsRequestEvents, "the rest of the body is not forwarded")
        XCTAssertEqual(play.on { m, _, sink in m.requestBody(Playbook.bytes("56789"), sink) }, [])
    }

    /// Once the response started, the response deadline is off: its late expiry does nothing.
    func testResponseDeadlineDoesNotFireOnceTheResponseStarted() {
        var play = Playbook()
        getSentOverAKeptLeg(&play)
        _ = play.on { $0.responseStarted(now: $1, $2) }
        XCTAssertEqual(play.on { $0.deadlineFired(now: $1, clientInputIdle: true, $2) }, [])
    }

    /// A kept-alive connection after its exchange: the idle deadline runs.
    private func finishedExchange() -> Playbook {
        var play = Playbook()
        getSentOverAKeptLeg(&play)
        _ = play.on { $0.responseHead(Playbook.response(204), now: $1, $2) }
        XCTAssertEqual(play.on { $0.responseEnd(trailers: nil, now: $1, $2) },
                       ["record responseEnd 0", "record flowEnded ok 0/0", "finishExchange keepLeg", "arm idle 120000",
                        "pullClient"])
        return play
    }

    /// Between requests the idle deadline closes a quiet connection.
    func testIdleDeadlineBetweenRequestsClosesAQuietConnection() {
        var play = finishedExchange()
        play.advance(milliseconds: 120_000)
        XCTAssertEqual(play.on { $0.deadlineFired(now: $1, clientInputIdle: true, $2) }, ["closeClient"])
        XCTAssertTrue(play.machine.isClosed)
    }

    /// The next request's first byte starts the header deadline (once), and a head
    /// still incomplete when it expires gets 408.
    func testHeaderDeadlineAfterTheNextRequestsFirstByteAnswers408() {
        var play = finishedExchange()
        XCTAssertEqual(play.on { m, _, sink in m.clientBytesArrived(sink) }, ["arm header 30000"])
        XCTAssertEqual(play.on { m, _, sink in m.clientBytesArrived(sink) }, [],
                       "the header deadline runs from the first byte")
        play.advance(milliseconds: 30_000)
        XCTAssertEqual(play.on { $0.deadlineFired(now: $1, clientInputIdle: false, $2) }, ["answer 408"])
        XCTAssertTrue(play.machine.isClosed)
    }

    // MARK: Client FIN with pipelined requests

    /// A FIN whose last complete pipelined request says `Connection: close` is a
    /// half-close: the exchange goes on and the connection closes after it.
    func testFINAfterAPipelinedConnectionCloseRequestLetsTheExchangeFinish() {
        var play = Playbook()
        getSentOverAKeptLeg(&play)
        var pipelined = HTTP1RequestParser()
        pipelined.append(Array("GET /b HTTP/1.1\r\nHost: o\r\nConnection: close\r\n\r\n".utf8))
        XCTAssertEqual(play.on { $0.clientSentEOF(pipelined: pipelined, now: $1, $2) }, [])
        _ = play.on { $0.responseHead(Playbook.response(200, framing: .contentLength(0)), now: $1, $2) }
        XCTAssertEqual(play.on { $0.responseEnd(trailers: nil, now: $1, $2) },
                       ["record responseEnd 0", "record flowEnded ok 0/0", "finishExchange keepLeg", "arm idle 120000",
                        "pullClient"], "the request behind it is still served")
    }

    /// A FIN whose last request meant to keep the connection: the client left.
    func testFINWhileWaitingForTheResponseOfAKeepAliveRequestAbortsIt() {
        var play = Playbook()
        getSentOverAKeptLeg(&play)
        XCTAssertEqual(play.on { $0.clientSentEOF(pipelined: HTTP1RequestParser(), now: $1, $2) },
                       ["disarm", "record flowEnded client-aborted 0/0", "cancelLeg", "closeClient"])
    }

    // MARK: Errors

    /// Inside a tunnel whose upstream could not be reached, every request is answered
    /// with that failure, without opening a leg.
    func testTunnelUpstreamFailureAnswersEveryRequest() {
        var play = Playbook(upstreamFailure: UpstreamFailure(error: FlowError(.upstreamTLS, "certificate expired")))
        XCTAssertEqual(play.request("HEAD", "/"),
                       ["record flowStarted", "record requestHead HEAD /", "disarm",
                        "record flowEnded upstream-tls 0/0", "cancelLeg", "answer 502 head only"])
    }

    /// A failure after the response head went to the client cuts the connection.
    func testUpstreamFailureMidBodyCutsTheClient() {
        var play = Playbook()
        getSentOverAKeptLeg(&play)
        _ = play.on { $0.responseHead(Playbook.response(200, framing: .contentLength(10)), now: $1, $2) }
        _ = play.on { m, _, sink in m.responseBody(Playbook.bytes("abc"), sink) }
        XCTAssertEqual(play.on { $0.legFailed(FlowError(.upstreamAborted, "closed mid-body"), now: $1, $2) },
                       ["disarm", "record flowEnded upstream-aborted 0/3", "cancelLeg", "closeClient"])
    }
}
