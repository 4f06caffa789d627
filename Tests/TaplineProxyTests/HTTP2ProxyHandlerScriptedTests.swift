import Foundation
import TaplineFlow
import TaplineHTTP2
import TaplineHTTPClient
import TaplineNet
import TaplineTLS
import TaplineTestSupport
import TaplineWire
import XCTest
@testable import TaplineProxy

/// `HTTP2ProxyHandler` with an HTTP/2 upstream, both connections `ScriptedByteStream`s:
/// the test plays an h2 client and an h2 origin with `HTTP2Session`s and moves the bytes
/// between them and the handler on the handler's loop, so the order of events on the
/// two sides is the script's, not the network's. Checked: the frames each side gets,
/// and what the capture records.
final class HTTP2ProxyHandlerScriptedTests: XCTestCase {
    /// The two peers and the handler between them; used only on `loop`.
    private final class Wiring: @unchecked Sendable {
        let clientPeer: ScriptedHTTP2Peer
        let originPeer: ScriptedHTTP2Peer
        var clientStream: ScriptedByteStream { clientPeer.stream }
        var upstreamStream: ScriptedByteStream { originPeer.stream }
        var client: HTTP2Session { clientPeer.session }
        var origin: HTTP2Session { originPeer.session }
        /// What each peer's session reported so far.
        var clientEvents: [HTTP2Event] { clientPeer.events }
        var originEvents: [HTTP2Event] { originPeer.events }
        var handler: HTTP2ProxyHandler?

        init(loop: EventLoop) throws {
            let proxyAddress = try SocketAddress(host: "127.0.0.1", port: 8443)
            clientPeer = ScriptedHTTP2Peer(
                stream: ScriptedByteStream(loop: loop, localAddress: proxyAddress,
                                           remoteAddress: try SocketAddress(host: "127.0.0.1", port: 50_000)),
                session: try HTTP2Session(role: .client))
            originPeer = ScriptedHTTP2Peer(
                stream: ScriptedByteStream(loop: loop, localAddress: try SocketAddress(host: "127.0.0.1", port: 50_001),
                                           remoteAddress: try SocketAddress(host: "127.0.0.1", port: 9443)),
                session: try HTTP2Session(role: .server))
        }

        /// The client opens a stream for `method /upload`.
        func request(_ method: String, endStream: Bool) throws -> Int32 {
            try client.submitRequest(HTTPHeaders([(":method", method), (":scheme", "http"),
                                                  (":authority", "origin.test"), (":path", "/upload")]),
                                     endStream: endStream)
        }

        /// Carries bytes between the peers and the handler until nobody has more to say.
        func settle() {
            while clientPeer.carry() + originPeer.carry() > 0 {}
        }
    }

    private var group: EventLoopGroup!
    private var recorder: CollectingFlowRecorder!
    private var wiring: Wiring!

    override func setUpWithError() throws {
        let home = NSTemporaryDirectory() + "tapline-proxy-tests-" + UUID().uuidString
        addTeardownBlock { try? FileManager.default.removeItem(atPath: home) }
        let certificateAuthority = try CertificateAuthority(home: home)
        group = try EventLoopGroup(threads: 1)
        let loop = group.loops[0]
        recorder = CollectingFlowRecorder()
        let wiring = try Wiring(loop: loop)
        self.wiring = wiring
        let recorder = recorder!
        onLoop {
            let target = UpstreamTarget(scheme: .http, host: "127.0.0.1", port: 9443)
            let context = ProxyContext(loop: loop, configuration: ProxyConfiguration(listenAddress: wiring.clientStream.localAddress),
                                       recorder: recorder, certificateAuthority: certificateAuthority,
                                       flowIDs: IdentifierSource(), connectionIDs: IdentifierSource())
            let info = ClientConnectionInfo(id: ConnectionID(1), address: wiring.clientStream.remoteAddress, scheme: "http")
            let handler = HTTP2ProxyHandler(
                context: context, client: wiring.clientStream, info: info,
                route: HTTP2Route(target: target, upstreamProtocol: .http2PriorKnowledge, isReverse: true),
                session: HTTP2ProxyHandler.makeSession()!,
                upstream: UpstreamConnection(target: target, stream: wiring.upstreamStream, tls: nil))
            context.register(handler, for: wiring.clientStream.transport)
            wiring.handler = handler
            handler.start()
            wiring.settle()
        }
    }

    override func tearDown() {
        let wiring = self.wiring!
        onLoop { wiring.clientStream.closeByPeer() }
        group.shutdown()
    }

    /// Runs `body` on the handler's loop and waits for it.
    private func onLoop(_ body: @escaping @Sendable () -> Void) {
        let done = DispatchSemaphore(value: 0)
        group.loops[0].execute {
            body()
            done.signal()
        }
        done.wait()
    }

    private func resets(_ events: [HTTP2Event]) -> [String] {
        events.compactMap { event in
            if case .streamReset(let id, let code) = event { return "\(id) \(code.name)" }
            return nil
        }
    }

    /// The errors of the flows that ended, once one has (the loop hands its events to
    /// the recorder at the end of its iteration).
    private var flowErrors: [FlowError?] {
        XCTAssertTrue(recorder.wait(timeout: 10) { if case .flowEnded = $0 { true } else { false } },
                      "no flow ended")
        return recorder.events.compactMap { event -> FlowError?? in
            if case .flowEnded(_, _, _, _, let error, _) = event { return .some(error) }
            return nil
        }
    }

    /// RFC 9113 §8.1: the origin answers before the upload ended and resets with NO_ERROR.
    /// The client gets the whole response, then RST_STREAM NO_ERROR; the flow ends
    /// without an error and records the origin's reset.
    func testAnOriginsNoErrorResetAfterItsResponseStopsTheUploadAndEndsTheFlowCleanly() throws {
        let wiring = self.wiring!
        try onLoopThrowing {
            let id = try wiring.request("POST", endStream: false)
            wiring.client.send(data: Array("part one".utf8), stream: id)
            wiring.settle()
            try wiring.origin.submitResponse(stream: 1, headers: HTTPHeaders([(":status", "200"), ("content-length", "4")]),
                                             endStream: false)
            wiring.origin.send(data: Array("done".utf8), stream: 1)
            wiring.origin.finish(stream: 1)
            wiring.origin.stopPeerAfterOurEnd(stream: 1) // END_STREAM, then RST_STREAM NO_ERROR
            wiring.settle()
        }
        var body: [UInt8] = []
        var ended = false
        for event in wiring.clientEvents {
            if case .data(_, let bytes) = event { body += bytes }
            if case .endStream = event { ended = true }
        }
        XCTAssertEqual(String(decoding: body, as: UTF8.self), "done")
        XCTAssertTrue(ended, "the response ends before the reset")
        XCTAssertEqual(resets(wiring.clientEvents), ["1 NO_ERROR"], "the client is asked to stop uploading")
        XCTAssertEqual(flowErrors.count, 1)
        XCTAssertNil(flowErrors.first ?? nil)
        XCTAssertTrue(recorder.events.contains {
            if case .http2StreamReset(_, false, 0, _) = $0 { return true }
            return false
        }, "the origin's reset is recorded")
    }

    /// The client resets its stream mid-response: the origin's stream is reset with the
    /// client's code, and the flow ends client-aborted.
    func testAClientsResetMidResponseResetsTheOriginsStreamWithItsCode() throws {
        let wiring = self.wiring!
        try onLoopThrowing {
            let id = try wiring.request("GET", endStream: true)
            wiring.settle()
            try wiring.origin.submitResponse(stream: 1, headers: HTTPHeaders([(":status", "200")]), endStream: false)
            wiring.origin.send(data: Array("partial".utf8), stream: 1)
            wiring.settle()
            wiring.client.reset(stream: id, code: .internalError)
            wiring.settle()
        }
        XCTAssertEqual(resets(wiring.originEvents), ["1 INTERNAL_ERROR"])
        XCTAssertEqual(flowErrors.first??.kind, .clientAborted)
    }

    /// Each exchange's stream leg is recycled once the exchange is over, and the next
    /// exchange's stream goes on the spare leg (`HTTP2StreamLegRecycler`): the handler
    /// keeps no other reference to a leg that would stop that.
    func testAnOverExchangesStreamLegServesTheNextExchange() throws {
        let wiring = self.wiring!
        let spareCounts = SyncResult<[Int]>()
        try onLoopThrowing {
            var counts: [Int] = []
            for stream: Int32 in [1, 3] {
                _ = try wiring.request("GET", endStream: true)
                wiring.settle()
                counts.append(wiring.handler?.spareStreamLegCount ?? -1)
                try wiring.origin.submitResponse(stream: stream, headers: HTTPHeaders([(":status", "200"),
                                                                                       ("content-length", "2")]),
                                                 endStream: false)
                wiring.origin.send(data: Array("ok".utf8), stream: stream)
                wiring.origin.finish(stream: stream)
                wiring.settle()
                counts.append(wiring.handler?.spareStreamLegCount ?? -1)
            }
            spareCounts.set(counts)
        }
        XCTAssertEqual(spareCounts.wait(seconds: 10), [0, 1, 0, 1],
                       "in flight: none spare; over: its leg is spare; the next stream takes it")
        XCTAssertEqual(wiring.clientEvents.filter { if case .endStream = $0 { true } else { false } }.count, 2)
    }

    private func onLoopThrowing(_ body: @escaping @Sendable () throws -> Void) throws {
        try group.loops[0].runScript(body)
    }
}
