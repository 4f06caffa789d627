import Foundation
@testable import TaplineHTTPClient
import TaplineFlow
import TaplineNet
import TaplineTestSupport
import TaplineWire
import XCTest

/// `UpstreamLegPool` and `PooledUpstreamLegSource` without sockets: `HTTP1ClientLeg`s
/// over `SynchronousByteStream`s (the idle HTTP/1.1 rules are the leg's and the
/// pool's together) and `StubPoolLeg`s, on one event loop (the pool's idle timer is
/// a loop timer), each test's steps run as one task on it.
final class UpstreamLegPoolTests: XCTestCase {
    private static let http = UpstreamTarget(scheme: .http, host: "origin.test", port: 8080)
    private static let https = UpstreamTarget(scheme: .https, host: "origin.test", port: 8080)

    private var group: EventLoopGroup!
    private var loop: EventLoop { group.loops[0] }

    override func setUpWithError() throws {
        group = try EventLoopGroup(threads: 1)
    }

    override func tearDown() {
        group.shutdown()
    }

    /// Runs `body` on the loop (which it is given) and returns what it returns.
    private func onLoop<T: Sendable>(_ body: @escaping @Sendable (EventLoop) -> T) throws -> T {
        let result = SyncResult<T>()
        let loop = self.loop
        loop.execute { result.set(body(loop)) }
        return try XCTUnwrap(result.wait(seconds: 10), "the loop did not run the task")
    }

    private static func key(_ target: UpstreamTarget = http, _ offer: UpstreamProtocolOffer = .http1) -> UpstreamPoolKey {
        UpstreamPoolKey(target: target, offer: offer)
    }

    /// An HTTP/1.1 leg that carried one request and may carry another (idle, `reused`).
    private static func usedHTTP1Leg(on stream: SynchronousByteStream, response: String = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") -> HTTP1ClientLeg {
        let leg = HTTP1ClientLeg(upstream: UpstreamConnection(target: http, stream: stream, tls: nil),
                                 reused: false, limits: HTTP1Limits())
        let delegate = RecordingLegDelegate()
        leg.delegate = delegate
        leg.sendHead(.http1(HTTPRequestHead(method: "GET", target: "/", version: .http1_1,
                                            headers: HTTPHeaders([("Host", "origin.test:8080")]))), endStream: true)
        stream.deliver(response)
        leg.delegate = nil
        return leg
    }

    // MARK: Keys

    func testKeysSeparateSchemesOffersAndPriorKnowledge() {
        XCTAssertNotEqual(Self.key(Self.https, .http1), Self.key(Self.https, .http2OrHTTP1),
                          "an h1-only TLS connection is not handed to an owner that offered h2")
        XCTAssertNotEqual(Self.key(Self.http), Self.key(Self.https))
        XCTAssertNotEqual(Self.key(Self.http, UpstreamProtocolOffer(alpn: [], priorKnowledgeHTTP2: true)),
                          Self.key(Self.http, .http1), "h2c by prior knowledge is another connection")
        XCTAssertNotEqual(Self.key(UpstreamTarget(scheme: .http, host: "origin.test", port: 8081)), Self.key(Self.http))
        XCTAssertEqual(Self.key(Self.http, .http1), Self.key(Self.http, .http2OrHTTP1),
                       "nothing is offered on plain TCP: the ALPN list does not split plain connections")
    }

    func testALegIsOnlyHandedOutUnderTheKeyItWasParkedUnder() throws {
        let taken = try onLoop { loop -> [String] in
            let pool = UpstreamLegPool(loop: loop, idleMilliseconds: 60_000)
            let h1 = StubPoolLeg("h1"), h2 = StubPoolLeg("h2")
            pool.park(h1, for: Self.key(Self.https, .http1))
            pool.park(h2, for: Self.key(Self.https, .http2OrHTTP1))
            let forH2Offer = (pool.take(for: Self.key(Self.https, .http2OrHTTP1)) as? StubPoolLeg)?.name ?? "none"
            let forH2OfferAgain = (pool.take(for: Self.key(Self.https, .http2OrHTTP1)) as? StubPoolLeg)?.name ?? "none"
            let forPlain = (pool.take(for: Self.key(Self.http, .http1)) as? StubPoolLeg)?.name ?? "none"
            let forH1Offer = (pool.take(for: Self.key(Self.https, .http1)) as? StubPoolLeg)?.name ?? "none"
            return [forH2Offer, forH2OfferAgain, forPlain, forH1Offer]
        }
        XCTAssertEqual(taken, ["h2", "none", "none", "h1"])
    }

    // MARK: Order and bounds

    func testTheMostRecentlyParkedLegIsHandedOutFirst() throws {
        let taken = try onLoop { loop -> [String] in
            let pool = UpstreamLegPool(loop: loop, idleMilliseconds: 60_000)
            for name in ["a", "b", "c"] { pool.park(StubPoolLeg(name), for: Self.key()) }
            return (0..<4).map { _ in (pool.take(for: Self.key()) as? StubPoolLeg)?.name ?? "none" }
        }
        XCTAssertEqual(taken, ["c", "b", "a", "none"])
    }

    func testALegBeyondTheCapPerKeyIsClosedNotParked() throws {
        let (cancelled, idle, otherKeyIdle) = try onLoop { loop -> ([Bool], Int, Int) in
            let pool = UpstreamLegPool(loop: loop, idleMilliseconds: 60_000, maxIdlePerKey: 2)
            let legs = ["a", "b", "c"].map(StubPoolLeg.init)
            for leg in legs { pool.park(leg, for: Self.key()) }
            pool.park(StubPoolLeg("other"), for: Self.key(Self.https))
            return (legs.map(\.cancelled), pool.idleCount(for: Self.key()), pool.idleCount(for: Self.key(Self.https)))
        }
        XCTAssertEqual(cancelled, [false, false, true], "the third leg for the key is closed")
        XCTAssertEqual(idle, 2)
        XCTAssertEqual(otherKeyIdle, 1, "the cap is per key")
    }

    func testANonPoolableLegIsClosedNotParked() throws {
        let (closed, closedAfterFlush, idle) = try onLoop { loop -> (Bool, Bool, Int) in
            let pool = UpstreamLegPool(loop: loop, idleMilliseconds: 60_000)
            let stream = SynchronousByteStream()
            let leg = Self.usedHTTP1Leg(on: stream, response: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")
            pool.park(leg, for: Self.key())
            return (stream.closed, stream.closedAfterFlush, pool.idleCount(for: Self.key()))
        }
        XCTAssertTrue(closed || closedAfterFlush, "the connection that said close is closed")
        XCTAssertEqual(idle, 0)
    }

    // MARK: Idle rules

    func testAParkedLegIsClosedAfterTheIdleTimeout() throws {
        let idleMilliseconds = 100
        let cancelled = SyncResult<UInt64>()
        let parkedAt = try onLoop { loop -> UInt64 in
            let pool = UpstreamLegPool(loop: loop, idleMilliseconds: idleMilliseconds)
            let leg = StubPoolLeg("idle")
            leg.onCancel = { [pool] in
                _ = pool // held until the timer fired
                cancelled.set(MonotonicClock.nanoseconds())
            }
            pool.park(leg, for: Self.key())
            return MonotonicClock.nanoseconds()
        }
        let closedAt = try XCTUnwrap(cancelled.wait(seconds: 10), "the idle leg was never closed")
        XCTAssertGreaterThanOrEqual((closedAt - parkedAt) / 1_000_000, UInt64(idleMilliseconds - 1),
                                    "closed before it had been idle for the timeout")
    }

    func testTakingALegKeepsItFromTheIdleTimeout() throws {
        let cancelled = SyncResult<Bool>()
        let handedOut = try onLoop { loop -> Bool in
            let pool = UpstreamLegPool(loop: loop, idleMilliseconds: 20)
            let taken = StubPoolLeg("taken"), left = StubPoolLeg("left")
            left.onCancel = { [pool] in
                withExtendedLifetime(pool) { cancelled.set(taken.cancelled) }
            }
            pool.park(taken, for: Self.key(Self.https))
            pool.park(left, for: Self.key())
            return pool.take(for: Self.key(Self.https)) === taken
        }
        XCTAssertTrue(handedOut, "the parked leg was handed out")
        XCTAssertEqual(cancelled.wait(seconds: 10), false,
                       "the leg left idle timed out, and the one handed out was not closed with it")
    }

    func testAnIdleHTTP1LegWhoseServerClosesOrSpeaksIsDroppedAtOnce() throws {
        for name in ["EOF", "a byte", "close"] {
            let (parked, closedByUs, handedOut, idle) = try onLoop { loop -> (Int, Bool, Bool, Int) in
                let pool = UpstreamLegPool(loop: loop, idleMilliseconds: 60_000)
                let stream = SynchronousByteStream()
                pool.park(Self.usedHTTP1Leg(on: stream), for: Self.key())
                let parked = pool.idleCount(for: Self.key())
                switch name {
                case "EOF": stream.deliverEOF()
                case "a byte": stream.deliver("x")
                default: stream.deliverClose()
                }
                return (parked, stream.closed, pool.take(for: Self.key()) != nil, pool.idleCount(for: Self.key()))
            }
            XCTAssertEqual(parked, 1, name)
            if name != "close" { // a connection the peer closed needs no close of ours
                XCTAssertTrue(closedByUs, "\(name): the idle connection is closed as soon as the server sends it")
            }
            XCTAssertFalse(handedOut, "\(name): never handed out")
            XCTAssertEqual(idle, 0, name)
        }
    }

    /// A leg is parked with the delegate its last owner set (clearing it per request
    /// would cost a weak reference each way), and tells that owner nothing while idle:
    /// what its server does then is the leg's and the pool's business.
    func testAParkedLegTellsItsLastOwnerNothing() throws {
        for name in ["a byte", "EOF", "close", "writable"] {
            let (events, handedOut) = try onLoop { loop -> ([String], Bool) in
                let pool = UpstreamLegPool(loop: loop, idleMilliseconds: 60_000)
                let stream = SynchronousByteStream()
                let leg = Self.usedHTTP1Leg(on: stream)
                let lastOwner = RecordingLegDelegate()
                leg.delegate = lastOwner
                pool.park(leg, for: Self.key())
                switch name {
                case "a byte": stream.deliver("x")
                case "EOF": stream.deliverEOF()
                case "close": stream.deliverClose()
                default: stream.delegate?.stream(stream, writabilityChanged: true)
                }
                let events = lastOwner.takeEvents()
                return (events, name == "writable" ? pool.take(for: Self.key()) === leg : pool.take(for: Self.key()) != nil)
            }
            XCTAssertEqual(events, [], "\(name): the last owner hears nothing of its parked leg")
            XCTAssertEqual(handedOut, name == "writable", "\(name): only a connection that stayed silent is handed out")
        }
    }

    func testAParkedLegIsReadSoThatItsServersCloseIsSeen() throws {
        let readingPaused = try onLoop { loop -> Bool in
            let pool = UpstreamLegPool(loop: loop, idleMilliseconds: 60_000)
            let stream = SynchronousByteStream()
            let leg = Self.usedHTTP1Leg(on: stream)
            leg.pauseReading(.clientSlow)
            leg.pauseReading(.captureBackedUp)
            pool.park(leg, for: Self.key())
            return stream.readingPaused
        }
        XCTAssertFalse(readingPaused, "no pause of its last owner holds a parked leg")
    }

    // MARK: Closing

    func testCloseAllClosesTheIdleLegsAndEveryLegParkedAfterIt() throws {
        let (first, later, idle) = try onLoop { loop -> (Bool, Bool, Int) in
            let pool = UpstreamLegPool(loop: loop, idleMilliseconds: 60_000)
            let first = StubPoolLeg("first"), later = StubPoolLeg("later")
            pool.park(first, for: Self.key())
            pool.closeAll()
            pool.park(later, for: Self.key())
            return (first.cancelled, later.cancelled, pool.idleCount(for: Self.key()))
        }
        XCTAssertTrue(first)
        XCTAssertTrue(later, "a leg released after closeAll is closed")
        XCTAssertEqual(idle, 0)
    }

    // MARK: The source

    /// A released leg goes back under the key it was handed out for, and the next ready
    /// leg asked for with that key is it, at once; another key gets none; `openLeg`
    /// connects anew (here to a closed port, so it fails instead of taking the idle leg).
    func testTheSourceHandsReleasedLegsBackAsReadyLegsOfTheirKey() throws {
        let closedPort = Int(try LoopbackPort.free())
        let target = UpstreamTarget(scheme: .http, host: "127.0.0.1", port: closedPort)
        let opened = SyncResult<String>()
        let handedOut = try onLoop { loop -> [String] in
            let source = PooledUpstreamLegSource(connector: UpstreamConnector(loop: loop, configuration: HTTPClientConfiguration()),
                                                 limits: HTTP1Limits(), idleMilliseconds: 60_000)
            let request = UpstreamLegRequest(target: target, offer: .http1, timings: FlowTimingsBox())
            let adopted = StubPoolLeg("adopted")
            source.adopt(adopted, under: request.key)
            var handedOut: [String] = []
            for _ in 0..<2 {
                let leg = source.readyLeg(for: request)
                handedOut.append((leg as? StubPoolLeg)?.name ?? "none")
                if let leg { source.release(leg) }
            }
            let otherTarget = UpstreamTarget(scheme: .https, host: "127.0.0.1", port: closedPort)
            let other = source.readyLeg(for: UpstreamLegRequest(target: otherTarget, offer: .http1, timings: FlowTimingsBox()))
            handedOut.append((other as? StubPoolLeg)?.name ?? "none")
            source.openLeg(for: request) { result in
                switch result {
                case .success: opened.set("a leg")
                case .failure(let failure): opened.set("\(failure.error.kind)")
                }
                _ = source
            }
            return handedOut
        }
        XCTAssertEqual(handedOut, ["adopted", "adopted", "none"], "the released leg is ready again, for its key only")
        XCTAssertEqual(opened.wait(seconds: 15), "\(FlowErrorKind.upstreamUnreachable)",
                       "openLeg connects anew instead of handing out the idle leg")
    }

    /// The owner is going: a leg it gives back after `closeAll` is closed, not parked.
    func testALegReleasedAfterCloseAllIsClosed() throws {
        let (cancelled, idle) = try onLoop { loop -> (Bool, Int) in
            let source = PooledUpstreamLegSource(connector: UpstreamConnector(loop: loop, configuration: HTTPClientConfiguration()),
                                                 limits: HTTP1Limits(), idleMilliseconds: 60_000)
            let request = UpstreamLegRequest(target: Self.http, offer: .http1, timings: FlowTimingsBox())
            let leg = StubPoolLeg("in use")
            source.adopt(leg, under: request.key)
            guard let handed = source.readyLeg(for: request) else { return (false, -1) }
            source.closeAll()
            source.release(handed)
            return (leg.cancelled, source.pool.idleCount(for: request.key))
        }
        XCTAssertTrue(cancelled)
        XCTAssertEqual(idle, 0)
    }
}
