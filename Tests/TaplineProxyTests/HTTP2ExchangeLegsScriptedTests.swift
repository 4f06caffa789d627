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

/// `HTTP2ExchangeLegs` through its handler, socket-free: the client and the origins are
/// peers on `ScriptedByteStream`s, new upstream connections are the test's (it answers
/// `connectUpstream` itself), and so is the HTTP/1.1 source when a test names one. So the
/// test sees which leg each exchange is given, on which connection, and when.
final class HTTP2ExchangeLegsScriptedTests: XCTestCase {
    /// The client, the connections the handler asked for, and the handler; used only on `loop`.
    private final class Wiring: @unchecked Sendable {
        let loop: EventLoop
        let target: UpstreamTarget
        let client: ScriptedHTTP2Peer
        /// Connections the handler asked for: the ALPN protocols each offered.
        private(set) var connectRequests: [[String]] = []
        /// Those the test has not answered yet, oldest first.
        private var connectCompletions: [(Result<UpstreamConnection, UpstreamFailure>) -> Void] = []
        var handler: HTTP2ProxyHandler?

        init(loop: EventLoop, target: UpstreamTarget) throws {
            self.loop = loop
            self.target = target
            client = ScriptedHTTP2Peer(
                stream: ScriptedByteStream(loop: loop, localAddress: try SocketAddress(host: "127.0.0.1", port: 8443),
                                           remoteAddress: try SocketAddress(host: "127.0.0.1", port: 50_000)),
                session: try HTTP2Session(role: .client))
        }

        /// Starts a handler for `route` (on the loop), with `upstream` already connected if given.
        func start(route: HTTP2Route, upstream: ScriptedByteStream?, certificateAuthority: CertificateAuthority) {
            let clientStream = client.stream
            let context = ProxyContext(loop: loop, configuration: ProxyConfiguration(listenAddress: clientStream.localAddress),
                                       recorder: CollectingFlowRecorder(), certificateAuthority: certificateAuthority,
                                       flowIDs: IdentifierSource(), connectionIDs: IdentifierSource())
            let info = ClientConnectionInfo(id: ConnectionID(1), address: clientStream.remoteAddress, scheme: "http")
            let handler = HTTP2ProxyHandler(
                context: context, client: clientStream, info: info, route: route, session: HTTP2ProxyHandler.makeSession()!,
                upstream: upstream.map { UpstreamConnection(target: target, stream: $0, tls: nil) })
            handler.legs.connectUpstream = { [unowned self] _, alpn, _, completion in
                self.connectRequests.append(alpn)
                self.connectCompletions.append(completion)
            }
            context.register(handler, for: clientStream.transport)
            self.handler = handler
            handler.start()
            client.settle()
        }

        /// Answers the oldest connection the handler asked for with a new scripted one
        /// (TLS that chose `alpn`, when given).
        func connect(alpn: String? = nil) throws -> ScriptedByteStream {
            let stream = try Self.upstreamStream(on: loop)
            let tls = alpn.map { TLSDetails(version: "TLSv1.3", cipher: "TLS_AES_128_GCM_SHA256", alpn: $0) }
            connectCompletions.removeFirst()(.success(UpstreamConnection(target: target, stream: stream, tls: tls)))
            return stream
        }

        /// The client opens a stream: a GET of `path`, or an extended CONNECT for a WebSocket.
        func request(_ path: String, webSocket: Bool = false) throws {
            var fields = [(":method", webSocket ? "CONNECT" : "GET"), (":scheme", "https"),
                          (":authority", "origin.test"), (":path", path)]
            if webSocket { fields += [(":protocol", "websocket"), ("sec-websocket-version", "13")] }
            _ = try client.session.submitRequest(HTTPHeaders(fields), endStream: !webSocket)
            client.settle()
        }

        /// A connection to the origin, 127.0.0.1:9443.
        static func upstreamStream(on loop: EventLoop) throws -> ScriptedByteStream {
            ScriptedByteStream(loop: loop, localAddress: try SocketAddress(host: "127.0.0.1", port: 50_001),
                               remoteAddress: try SocketAddress(host: "127.0.0.1", port: 9443))
        }
    }

    private var group: EventLoopGroup!
    private var certificateAuthority: CertificateAuthority!
    private var wiring: Wiring!

    override func setUpWithError() throws {
        let home = NSTemporaryDirectory() + "tapline-proxy-tests-" + UUID().uuidString
        addTeardownBlock { try? FileManager.default.removeItem(atPath: home) }
        certificateAuthority = try CertificateAuthority(home: home)
        group = try EventLoopGroup(threads: 1)
    }

    override func tearDown() {
        if let wiring { try? group.loops[0].runScript { wiring.client.stream.closeByPeer() } }
        group.shutdown()
    }

    /// RFC 8441: an extended CONNECT that arrives before the origin's SETTINGS waits for
    /// them; an origin that does not announce SETTINGS_ENABLE_CONNECT_PROTOCOL gets no
    /// stream for it, and the WebSocket asks the HTTP/1.1 source for a new connection.
    func testAWebSocketWaitsForTheOriginsSettingsThenGoesOverHTTP1WhenTheOriginLacksRFC8441() throws {
        let target = UpstreamTarget(scheme: .http, host: "127.0.0.1", port: 9443)
        let wiring = try Wiring(loop: group.loops[0], target: target)
        self.wiring = wiring
        var settings = HTTP2SessionSettings()
        settings.enableConnectProtocol = false
        let origin = ScriptedHTTP2Peer(stream: try Wiring.upstreamStream(on: group.loops[0]),
                                       session: try HTTP2Session(role: .server, settings: settings))
        nonisolated(unsafe) let http1Legs = FakeLegSource() // used only on the loop
        let steps = SyncResult<[String]>()
        let certificateAuthority = certificateAuthority!
        try group.loops[0].runScript {
            var route = HTTP2Route(target: target, upstreamProtocol: .http2PriorKnowledge, isReverse: true)
            route.legSource = http1Legs
            wiring.start(route: route, upstream: origin.stream, certificateAuthority: certificateAuthority)
            try wiring.request("/chat", webSocket: true)
            var seen = ["before the origin's SETTINGS: \(http1Legs.pending.count) HTTP/1.1 legs asked for"]
            origin.settle()
            seen.append("after them: \(http1Legs.pending.count) HTTP/1.1 legs asked for, "
                        + "origin asked for \(origin.requestedPaths)")
            steps.set(seen)
        }
        XCTAssertEqual(steps.wait(seconds: 10), [
            "before the origin's SETTINGS: 0 HTTP/1.1 legs asked for",
            "after them: 1 HTTP/1.1 legs asked for, origin asked for []",
        ])
    }

    /// An https upstream that answers ALPN with http/1.1: the first stream goes over that
    /// very connection as HTTP/1.1, and a later stream takes it again (kept alive) without
    /// asking for an HTTP/2 connection again.
    func testAnUpstreamThatChoseHTTP1ByALPNServesThisAndLaterStreamsOverHTTP1() throws {
        let target = UpstreamTarget(scheme: .https, host: "127.0.0.1", port: 9443)
        let wiring = try Wiring(loop: group.loops[0], target: target)
        self.wiring = wiring
        let observed = SyncResult<[String]>()
        let certificateAuthority = certificateAuthority!
        try group.loops[0].runScript {
            wiring.start(route: HTTP2Route(target: target, upstreamProtocol: .negotiated, isReverse: true),
                         upstream: nil, certificateAuthority: certificateAuthority)
            try wiring.request("/one")
            var seen = ["offered \(wiring.connectRequests)"]
            let upstream = try wiring.connect(alpn: "http/1.1")
            wiring.client.settle()
            upstream.receive("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
            wiring.client.settle()
            try wiring.request("/two")
            upstream.receive("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
            wiring.client.settle()
            let requestLines = String(decoding: upstream.written, as: UTF8.self)
                .split(separator: "\r\n").filter { $0.hasPrefix("GET ") }
            seen.append("upstream got \(requestLines)")
            seen.append("connections asked for: \(wiring.connectRequests.count)")
            observed.set(seen)
        }
        XCTAssertEqual(observed.wait(seconds: 10), [
            "offered [[\"h2\", \"http/1.1\"]]",
            "upstream got [\"GET /one HTTP/1.1\", \"GET /two HTTP/1.1\"]",
            "connections asked for: 1",
        ])
        XCTAssertEqual(wiring.client.responseStatuses, ["200", "200"])
    }

    /// The shared upstream said GOAWAY (NO_ERROR, so the client is told only once no stream
    /// is in flight) while a stream was in flight: the stream the client opens next goes on
    /// a new HTTP/2 connection, which answers it.
    func testAStreamOpenedAfterTheUpstreamsGoAwayGoesOnANewConnection() throws {
        let target = UpstreamTarget(scheme: .http, host: "127.0.0.1", port: 9443)
        let wiring = try Wiring(loop: group.loops[0], target: target)
        self.wiring = wiring
        let first = ScriptedHTTP2Peer(stream: try Wiring.upstreamStream(on: group.loops[0]),
                                      session: try HTTP2Session(role: .server))
        let observed = SyncResult<[String]>()
        let certificateAuthority = certificateAuthority!
        try group.loops[0].runScript {
            wiring.start(route: HTTP2Route(target: target, upstreamProtocol: .http2PriorKnowledge, isReverse: true),
                         upstream: first.stream, certificateAuthority: certificateAuthority)
            try wiring.request("/one")
            first.settle()
            first.session.goAway(code: .noError, debugData: "restarting")
            first.settle()
            try wiring.request("/two")
            var seen = ["connections asked for after the GOAWAY: \(wiring.connectRequests.count)"]
            let second = ScriptedHTTP2Peer(stream: try wiring.connect(), session: try HTTP2Session(role: .server))
            second.settle()
            try second.session.submitResponse(stream: 1, headers: HTTPHeaders([(":status", "201")]), endStream: true)
            second.settle()
            wiring.client.settle()
            seen.append("first origin asked for \(first.requestedPaths), second for \(second.requestedPaths)")
            observed.set(seen)
        }
        XCTAssertEqual(observed.wait(seconds: 10), [
            "connections asked for after the GOAWAY: 1",
            "first origin asked for [\"/one\"], second for [\"/two\"]",
        ])
        XCTAssertEqual(wiring.client.responseStatuses, ["201"])
    }

    /// RFC 9113 §6.8: the shared upstream said GOAWAY (NO_ERROR, its last stream id covering
    /// stream 1) while stream 1 was in flight, and the next stream made a new connection.
    /// The old connection stays open until the origin has answered stream 1, the client
    /// gets that response whole, and only then is the old connection closed.
    func testAStreamInFlightWhenTheUpstreamSaidGoAwayFinishesOnItsConnectionWhichThenCloses() throws {
        let target = UpstreamTarget(scheme: .http, host: "127.0.0.1", port: 9443)
        let wiring = try Wiring(loop: group.loops[0], target: target)
        self.wiring = wiring
        let first = ScriptedHTTP2Peer(stream: try Wiring.upstreamStream(on: group.loops[0]),
                                      session: try HTTP2Session(role: .server))
        let observed = SyncResult<[String]>()
        let certificateAuthority = certificateAuthority!
        try group.loops[0].runScript {
            wiring.start(route: HTTP2Route(target: target, upstreamProtocol: .http2PriorKnowledge, isReverse: true),
                         upstream: first.stream, certificateAuthority: certificateAuthority)
            try wiring.request("/one")
            first.settle()
            first.session.goAway(code: .noError, debugData: "restarting")
            first.settle()
            try wiring.request("/two")
            let second = ScriptedHTTP2Peer(stream: try wiring.connect(), session: try HTTP2Session(role: .server))
            second.settle()
            try second.session.submitResponse(stream: 1, headers: HTTPHeaders([(":status", "201")]), endStream: true)
            second.settle()
            wiring.client.settle()
            var seen = ["old connection closed once the new one answered: \(first.stream.actions.contains(.closeAfterFlush))"]
            try first.session.submitResponse(stream: 1, headers: HTTPHeaders([(":status", "200")]), endStream: false)
            first.session.send(data: Array("the whole ".utf8), stream: 1)
            first.session.send(data: Array("response".utf8), stream: 1)
            first.session.finish(stream: 1)
            first.settle()
            wiring.client.settle()
            seen.append("client got /one: \(wiring.client.body(stream: 1).debugDescription), /two: \(wiring.client.body(stream: 3).debugDescription)")
            seen.append("old connection closed after its last stream: \(first.stream.actions.contains(.closeAfterFlush))")
            observed.set(seen)
        }
        XCTAssertEqual(observed.wait(seconds: 10), [
            "old connection closed once the new one answered: false",
            "client got /one: \"the whole response\", /two: \"\"",
            "old connection closed after its last stream: true",
        ])
        XCTAssertEqual(wiring.client.responseStatuses, ["201", "200"])
    }
}
