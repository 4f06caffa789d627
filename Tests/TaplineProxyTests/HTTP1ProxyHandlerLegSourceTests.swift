import Foundation
import TaplineFlow
import TaplineHTTPClient
import TaplineNet
import TaplineTLS
import TaplineTestSupport
import XCTest
@testable import TaplineProxy

/// `HTTP1ProxyHandler` as the shell of its state machine, driven without sockets: a
/// `ScriptedByteStream` client and a `FakeLegSource` whose legs connect when the test says.
final class HTTP1ProxyHandlerLegSourceTests: XCTestCase {
    /// The client hangs up while the upstream is still connecting: the flow ends
    /// client-aborted, and the leg that connects afterwards is cancelled without a byte
    /// of the request having been sent on it.
    func testALegThatConnectsAfterTheClientLeftIsCancelledUnused() throws {
        let connection = try ScriptedHTTP1ClientConnection(for: self)
        let loop = connection.loop, client = connection.client
        let source = LoopBound(FakeLegSource(), loop: loop)
        let target = UpstreamTarget(scheme: .http, host: "origin.test", port: 8080)
        let upstreamStream = ScriptedByteStream(loop: loop, localAddress: try SocketAddress(host: "127.0.0.1", port: 50_001),
                                                remoteAddress: try SocketAddress(host: "127.0.0.1", port: 8080))
        let leg = LoopBound(FakeClientLeg(target: target, stream: upstreamStream), loop: loop)
        let legsAsked = SyncResult<Int>()
        // Held so that the leg's late arrival reaches the handler (and its machine), not
        // only the source's weak reference to a handler already gone.
        let handlerHeld = SyncResult<LoopBound<HTTP1ProxyHandler>>()

        loop.execute {
            let handler = connection.startHandler(route: .forward, legSource: source.value)
            handlerHeld.set(LoopBound(handler, loop: loop))
            client.receive("GET http://origin.test:8080/slow HTTP/1.1\r\nHost: origin.test:8080\r\n\r\n")
            legsAsked.set(source.value.pending.count)
            client.closeByPeer()
        }
        XCTAssertEqual(legsAsked.wait(seconds: 10), 1, "one leg was asked for")
        XCTAssertTrue(connection.waitForConnectionClosed(), "the handler never saw the client close")

        let calls = SyncResult<[String]>()
        let handler = handlerHeld.wait(seconds: 10)
        XCTAssertNotNil(handler)
        loop.execute {
            withExtendedLifetime(handler) {
                source.value.complete(with: .success(leg.value))
                calls.set(leg.value.calls)
            }
        }
        XCTAssertEqual(calls.wait(seconds: 10), ["cancel"], "the late leg is cancelled and never sent the request")

        XCTAssertEqual(connection.firstFlowError?.kind, .clientAborted)
        XCTAssertFalse(connection.recorder.events.contains { if case .upstreamConnected = $0 { true } else { false } },
                       "no upstream was ever connected for the flow")
    }
}
