import TaplineCapture
import TaplineFlow
import TaplineHTTPClient
@testable import TaplineReplay
import TaplineWire
import XCTest

/// ReplayRequestRewriter: destination, protocol offer and Host / :authority of a replayed request.
final class ReplayRequestRewriterTests: XCTestCase {
    private func flow(_ head: HTTPRequestHead, scheme: String = "http", authority: String = "api.test:8080",
                      bodyBytes: UInt64 = 0) -> CapturedFlow {
        var flow = CapturedFlow(id: FlowID(7), connection: ConnectionID(1), kind: .http, scheme: scheme, authority: authority,
                                started: Timestamp(microseconds: 0), sessionDirectory: "/nonexistent")
        flow.request = head
        flow.requestBody.capturedBytes = bodyBytes
        flow.requestBody.bodyBytes = bodyBytes
        flow.requestBody.isComplete = true
        flow.ended = Timestamp(microseconds: 1_000)
        return flow
    }

    private func http1(_ request: ReplayRequest) -> HTTPRequestHead? {
        if case .http1(let head) = request.head { return head }
        return nil
    }

    private func http2(_ request: ReplayRequest) -> [String: String] {
        guard case .http2(let fields) = request.head else { return [:] }
        return Dictionary(fields.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
    }

    private let get = HTTPRequestHead(method: "GET", target: "/users?id=1",
                                      headers: HTTPHeaders([(name: "Host", value: "api.test:8080"), (name: "Connection", value: "keep-alive"),
                                                            (name: "Accept", value: "*/*")]))

    func testRecordedDestinationByDefault() throws {
        let request = try ReplayRequestRewriter.request(for: flow(get), rules: ReplayTargetRules())
        XCTAssertEqual(request.target, UpstreamTarget(scheme: .http, host: "api.test", port: 8080))
        XCTAssertEqual(request.offer, .http1)
        XCTAssertEqual(request.sourceFlow, FlowID(7))
        let head = try XCTUnwrap(http1(request))
        XCTAssertEqual(head.target, "/users?id=1")
        XCTAssertEqual(head.headers.first(name: "Host"), "api.test:8080")
        XCTAssertNil(head.headers.first(name: "Connection")) // hop-by-hop
        XCTAssertEqual(head.headers.first(name: "Accept"), "*/*")
    }

    func testTargetRewritesHostUnlessKeepHost() throws {
        var rules = ReplayTargetRules(target: try ReplayTarget(url: "https://staging.test:8443"))
        var request = try ReplayRequestRewriter.request(for: flow(get), rules: rules)
        XCTAssertEqual(request.target, UpstreamTarget(scheme: .https, host: "staging.test", port: 8443))
        XCTAssertEqual(request.offer, .http1)
        XCTAssertEqual(http1(request)?.headers.first(name: "Host"), "staging.test:8443")
        rules.keepHost = true
        request = try ReplayRequestRewriter.request(for: flow(get), rules: rules)
        XCTAssertEqual(http1(request)?.headers.first(name: "Host"), "api.test:8080")
    }

    /// A recording without hop-by-hop fields (nothing for the head rewriter to drop)
    /// still goes with the destination's Host and its fields in order, and the flow it
    /// came from keeps the recorded ones.
    func testARecordingWithNothingToDropGoesWithTheNewHostAndKeepsItsOwn() throws {
        let plain = HTTPRequestHead(method: "GET", target: "/a", headers: HTTPHeaders([(name: "Host", value: "api.test:8080"),
                                                                                      (name: "Accept", value: "*/*")]))
        let source = flow(plain)
        let rules = ReplayTargetRules(target: try ReplayTarget(url: "http://staging.test:9000"))
        let head = try XCTUnwrap(http1(try ReplayRequestRewriter.request(for: source, rules: rules)))
        XCTAssertEqual(head.headers.fields.map { $0.name }, ["Host", "Accept"])
        XCTAssertEqual(head.headers.first(name: "Host"), "staging.test:9000")
        XCTAssertEqual(source.request?.headers.first(name: "Host"), "api.test:8080")
        XCTAssertEqual(source.request?.headers, plain.headers)
    }

    func testMapHostRedirectsOneAuthority() throws {
        var rules = ReplayTargetRules()
        try rules.addHostMapping("api.test:8080=127.0.0.1:9000")
        XCTAssertThrowsError(try rules.addHostMapping("nonsense"))
        let request = try ReplayRequestRewriter.request(for: flow(get), rules: rules)
        XCTAssertEqual(request.target, UpstreamTarget(scheme: .http, host: "127.0.0.1", port: 9000))
        XCTAssertEqual(http1(request)?.headers.first(name: "Host"), "127.0.0.1:9000")
        let other = try ReplayRequestRewriter.request(for: flow(get, authority: "other.test"), rules: rules)
        XCTAssertEqual(other.target, UpstreamTarget(scheme: .http, host: "other.test", port: 80))
    }

    func testHTTP2FlowsStayHTTP2AndH2CTargetsUsePriorKnowledge() throws {
        let block = HTTPRequestHead(method: "POST", target: "/rpc", version: .http2, headers: HTTPHeaders([
            (name: ":method", value: "POST"), (name: ":scheme", value: "https"), (name: ":authority", value: "api.test"),
            (name: ":path", value: "/rpc"), (name: "content-type", value: "application/json")]))
        var request = try ReplayRequestRewriter.request(for: flow(block, scheme: "https", authority: "api.test", bodyBytes: 5),
                                                        rules: ReplayTargetRules())
        XCTAssertEqual(request.offer, .http2OrHTTP1)
        XCTAssertEqual(http2(request)[":authority"], "api.test")
        XCTAssertEqual(request.recordedHead.version, .http2)
        XCTAssertEqual(request.bodyBytes, 5)

        let h2c = ReplayTargetRules(target: try ReplayTarget(url: "h2c://127.0.0.1:9000"))
        request = try ReplayRequestRewriter.request(for: flow(block, scheme: "https", authority: "api.test"), rules: h2c)
        XCTAssertEqual(request.offer, UpstreamProtocolOffer(alpn: [], priorKnowledgeHTTP2: true))
        XCTAssertEqual(http2(request)[":authority"], "127.0.0.1:9000")
        XCTAssertEqual(http2(request)[":scheme"], "http")
        // an HTTP/1.1 flow to an h2c target goes as HTTP/2 too
        XCTAssertEqual(try ReplayRequestRewriter.request(for: flow(get), rules: h2c).offer,
                       UpstreamProtocolOffer(alpn: [], priorKnowledgeHTTP2: true))
        // a recorded h2c flow (plain http) keeps prior knowledge to its own destination
        XCTAssertTrue(try ReplayRequestRewriter.request(for: flow(block, scheme: "http"), rules: ReplayTargetRules())
                        .offer.priorKnowledgeHTTP2)
        // an http:// target is HTTP/1.1 for every flow
        let plain = ReplayTargetRules(target: try ReplayTarget(url: "http://127.0.0.1:9000"))
        XCTAssertEqual(try ReplayRequestRewriter.request(for: flow(block), rules: plain).offer, .http1)
    }

    func testBodyFramingAndAbsoluteFormTarget() throws {
        let post = HTTPRequestHead(method: "POST", target: "http://api.test:8080/upload?x=1", headers: HTTPHeaders([
            (name: "Host", value: "api.test:8080"), (name: "Transfer-Encoding", value: "chunked"),
            (name: "Expect", value: "100-continue")]))
        let request = try ReplayRequestRewriter.request(for: flow(post, bodyBytes: 10), rules: ReplayTargetRules())
        let head = try XCTUnwrap(http1(request))
        XCTAssertEqual(head.target, "/upload?x=1")
        XCTAssertEqual(head.headers.first(name: "Transfer-Encoding"), "chunked")
        XCTAssertTrue(request.expectsContinue)
        var sized = post
        sized.headers = HTTPHeaders([(name: "Host", value: "api.test:8080"), (name: "Content-Length", value: "10")])
        let fixed = try XCTUnwrap(http1(try ReplayRequestRewriter.request(for: flow(sized, bodyBytes: 10), rules: ReplayTargetRules())))
        XCTAssertEqual(fixed.headers.first(name: "Content-Length"), "10")
        XCTAssertNil(fixed.headers.first(name: "Transfer-Encoding"))
    }

    /// The one pass over the recorded fields finds what `containsToken` and
    /// `contains(name:)` would: any Expect or Transfer-Encoding field, any case.
    func testAskedFieldsAgreeWithTheHeaderLookups() {
        let lists: [[HTTPHeaders.Field]] = [
            [("expect", "100-CONTINUE"), ("content-length", "0")],
            [("Expect", "x"), ("EXPECT", "a, 100-continue"), ("Transfer-Encoding", "gzip"), ("transfer-encoding", "Chunked")],
            [("Expect", "100-continuex"), ("Content-Lengths", "1"), ("Transfer-Encoding", "gzip, chunked-not")],
            [("Host", "a")], [],
        ]
        for fields in lists {
            let headers = HTTPHeaders(fields)
            let asked = ReplayRequestRewriter.askedFields(of: headers)
            XCTAssertEqual(asked.expectsContinue, headers.containsToken("100-continue", inField: "Expect"), "\(fields)")
            XCTAssertEqual(asked.statesLength, headers.contains(name: "Content-Length"), "\(fields)")
            XCTAssertEqual(asked.listsChunked, headers.containsToken("chunked", inField: "Transfer-Encoding"), "\(fields)")
        }
        XCTAssertTrue(ReplayRequestRewriter.askedFields(of: HTTPHeaders(lists[1])).listsChunked)
        XCTAssertTrue(ReplayRequestRewriter.askedFields(of: HTTPHeaders(lists[1])).expectsContinue)
    }

    func testTargetURLErrorsSayWhatToGive() {
        XCTAssertThrowsError(try ReplayTarget(url: "ftp://x")) { error in
            XCTAssertTrue("\(error)".contains("http://, https:// or h2c://"), "\(error)")
        }
        XCTAssertThrowsError(try ReplayTarget(url: "h2c://x:99999"))
        XCTAssertEqual(try ReplayTarget(url: "h2c://127.0.0.1:81").upstream, UpstreamTarget(scheme: .http, host: "127.0.0.1", port: 81))
    }

    func testPlanSkipsRefusedWebSocketsTruncatedAndIncompleteFlowsWithReasons() {
        var socket = flow(get)
        socket.kind = .websocket
        var truncated = flow(get)
        truncated.id = FlowID(8)
        truncated.responseBody.truncated = true
        truncated.responseBody.capturedBytes = 8
        truncated.responseBody.bodyBytes = 40
        var incomplete = flow(get)
        incomplete.id = FlowID(9)
        incomplete.requestBody.isComplete = false
        var unended = flow(get)
        unended.id = FlowID(10)
        unended.ended = nil
        let plan = ReplayPlan(flows: [flow(get), socket, truncated, incomplete, unended], rules: ReplayTargetRules(),
                              allowTruncated: false)
        XCTAssertEqual(plan.itemCount, 1)
        XCTAssertEqual(plan.skipped.map(\.reason.description), [
            "its WebSocket handshake did not open a WebSocket",
            "its response body was truncated by --max-body-capture (kept 8 of 40 bytes); --allow-truncated sends what was kept",
            "its request was not recorded whole (the session was not closed when it was read)",
            "it was not recorded whole: it had not ended when its session stopped (the proxy was killed or is still running)"])
        XCTAssertEqual(ReplayPlan(flows: [truncated], rules: ReplayTargetRules(), allowTruncated: true).itemCount, 1)
    }

    func testAWebSocketHandshakeKeepsItsOfferAndGetsAFreshKeyEachTime() throws {
        var socket = flow(HTTPRequestHead(method: "GET", target: "http://api.test:8080/feed?room=1", headers: HTTPHeaders([
            (name: "Host", value: "api.test:8080"), (name: "Upgrade", value: "websocket"), (name: "Connection", value: "Upgrade"),
            (name: "Proxy-Connection", value: "keep-alive"), (name: "Sec-WebSocket-Key", value: "dGhlIHNhbXBsZSBub25jZQ=="),
            (name: "Sec-WebSocket-Version", value: "13"), (name: "Sec-WebSocket-Protocol", value: "chat.v1"),
            (name: "Sec-WebSocket-Extensions", value: "permessage-deflate; client_max_window_bits"),
        ])))
        socket.kind = .websocket
        let request = try ReplayRequestRewriter.request(for: socket, rules: ReplayTargetRules())
        XCTAssertEqual(request.offer, .http1)
        XCTAssertEqual(request.bodyBytes, 0)
        let head = try XCTUnwrap(http1(request))
        XCTAssertEqual(head.target, "/feed?room=1")
        XCTAssertTrue(WebSocketHandshake.isUpgradeRequest(head))
        XCTAssertEqual(head.headers.first(name: "Sec-WebSocket-Protocol"), "chat.v1")
        XCTAssertEqual(head.headers.first(name: "Sec-WebSocket-Extensions"), "permessage-deflate; client_max_window_bits")
        XCTAssertFalse(head.headers.contains(name: "Proxy-Connection"))

        let first = try XCTUnwrap(http1(request.withFreshWebSocketKey()))
        let second = try XCTUnwrap(http1(request.withFreshWebSocketKey()))
        let key = try XCTUnwrap(first.headers.first(name: "Sec-WebSocket-Key"))
        XCTAssertTrue(WebSocketHandshake.isValidKey(key))
        XCTAssertNotEqual(key, "dGhlIHNhbXBsZSBub25jZQ==")
        XCTAssertNotEqual(key, second.headers.first(name: "Sec-WebSocket-Key"))
        XCTAssertEqual(first.headers.values(name: "Sec-WebSocket-Key").count, 1)
    }

    private func extendedConnectFlow() -> CapturedFlow {
        var socket = flow(HTTPRequestHead(method: "CONNECT", target: "/chat?room=1", version: .http2, headers: HTTPHeaders([
            (name: ":method", value: "CONNECT"), (name: ":protocol", value: "websocket"), (name: ":scheme", value: "https"),
            (name: ":path", value: "/chat?room=1"), (name: ":authority", value: "api.test:8080"),
            (name: "sec-websocket-version", value: "13"), (name: "sec-websocket-protocol", value: "chat, superchat"),
            (name: "sec-websocket-extensions", value: "permessage-deflate; client_max_window_bits"),
            (name: "origin", value: "https://api.test:8080"), (name: "cookie", value: "a=1"),
        ])), scheme: "https")
        socket.kind = .websocket
        return socket
    }

    /// RFC 8441 §4/§5: recorded over HTTP/2 and sent to an HTTP/2 destination, the
    /// WebSocket is an extended CONNECT again, with the recorded offer and no key, Upgrade
    /// or Connection; its fallback is the HTTP/1.1 Upgrade.
    func testAnExtendedConnectStaysOneOverHTTP2WithTheUpgradeAsItsFallback() throws {
        let request = try ReplayRequestRewriter.request(for: extendedConnectFlow(), rules: ReplayTargetRules())
        XCTAssertTrue(request.isExtendedConnect)
        XCTAssertEqual(request.offer, .http2OrHTTP1)
        guard case .http2(let block) = request.head else { return XCTFail("not an HTTP/2 block: \(request.head)") }
        XCTAssertEqual(block.map { "\($0.name): \($0.value)" }, [
            ":method: CONNECT", ":protocol: websocket", ":scheme: https", ":authority: api.test:8080",
            ":path: /chat?room=1", "sec-websocket-version: 13", "sec-websocket-protocol: chat, superchat",
            "sec-websocket-extensions: permessage-deflate; client_max_window_bits",
            "origin: https://api.test:8080", "cookie: a=1",
        ])
        XCTAssertEqual(request.recordedHead.method, "CONNECT")
        XCTAssertEqual(request.recordedHead.target, "/chat?room=1")
        XCTAssertTrue(WebSocketHandshake.isExtendedConnectRequest(request.recordedHead))
        XCTAssertEqual(request.withFreshWebSocketKey().head.method, "CONNECT") // no key to refresh

        let fallback = request.fallingBackToHTTP1Upgrade()
        XCTAssertFalse(fallback.isExtendedConnect)
        XCTAssertEqual(fallback.offer, .http1)
        XCTAssertEqual(fallback.target, request.target)
        let head = try XCTUnwrap(http1(fallback))
        XCTAssertEqual(head.method, "GET")
        XCTAssertTrue(WebSocketHandshake.isUpgradeRequest(head))
        XCTAssertTrue(WebSocketHandshake.isValidKey(head.headers.first(name: "Sec-WebSocket-Key") ?? ""))
        XCTAssertEqual(head.headers.first(name: "sec-websocket-protocol"), "chat, superchat")
        XCTAssertEqual(fallback.recordedHead, head)
    }

    /// An h2c target keeps it an extended CONNECT by prior knowledge, with `:scheme http`
    /// and the target's authority.
    func testAnExtendedConnectToAnH2CTargetUsesPriorKnowledge() throws {
        let rules = ReplayTargetRules(target: try ReplayTarget(url: "h2c://127.0.0.1:9000"))
        let request = try ReplayRequestRewriter.request(for: extendedConnectFlow(), rules: rules)
        XCTAssertTrue(request.isExtendedConnect)
        XCTAssertTrue(request.offer.priorKnowledgeHTTP2)
        XCTAssertEqual(http2(request)[":scheme"], "http")
        XCTAssertEqual(http2(request)[":authority"], "127.0.0.1:9000")
    }

    func testAnExtendedConnectToAnHTTP1TargetBecomesAnHTTP1Upgrade() throws {
        let rules = ReplayTargetRules(target: try ReplayTarget(url: "http://api.test:8080"))
        let request = try ReplayRequestRewriter.request(for: extendedConnectFlow(), rules: rules)
        XCTAssertFalse(request.isExtendedConnect)
        XCTAssertEqual(request.offer, .http1)
        let head = try XCTUnwrap(http1(request.withFreshWebSocketKey()))
        XCTAssertEqual(head.method, "GET")
        XCTAssertEqual(head.target, "/chat?room=1")
        XCTAssertEqual(head.version, .http1_1)
        XCTAssertTrue(WebSocketHandshake.isUpgradeRequest(head))
        XCTAssertEqual(head.headers.first(name: "Host"), "api.test:8080")
        XCTAssertEqual(head.headers.first(name: "Sec-WebSocket-Version"), "13")
        XCTAssertEqual(head.headers.values(name: "Sec-WebSocket-Version").count, 1)
        XCTAssertEqual(head.headers.first(name: "sec-websocket-protocol"), "chat, superchat")
        XCTAssertTrue(WebSocketHandshake.isValidKey(head.headers.first(name: "Sec-WebSocket-Key") ?? ""))
    }

    /// A plan checks every flow's destination before sending any (`destination`) and makes
    /// its request only when it is sent: both must say the same target, offer and kind of handshake.
    func testTheDestinationIsWhereTheRequestGoes() throws {
        let block = HTTPRequestHead(method: "GET", target: "/", version: .http2,
                                    headers: HTTPHeaders([(name: ":authority", value: "api.test")]))
        let rules = [ReplayTargetRules(), ReplayTargetRules(target: try ReplayTarget(url: "https://staging.test:8443")),
                     ReplayTargetRules(target: try ReplayTarget(url: "h2c://127.0.0.1:9000")),
                     ReplayTargetRules(target: try ReplayTarget(url: "http://127.0.0.1:9000"))]
        for rule in rules {
            for recorded in [flow(get), flow(block, scheme: "https", authority: "api.test"), extendedConnectFlow()] {
                let destination = try ReplayRequestRewriter.destination(for: recorded, rules: rule)
                let request = try ReplayRequestRewriter.request(for: recorded, rules: rule)
                XCTAssertEqual(destination.target, request.target)
                XCTAssertEqual(destination.sendsExtendedConnect, request.isExtendedConnect)
                // (A WebSocket that goes as an HTTP/1.1 Upgrade offers HTTP/1.1 whatever its destination.)
                if recorded.kind != .websocket || request.isExtendedConnect { XCTAssertEqual(destination.offer, request.offer) }
            }
        }
        XCTAssertThrowsError(try ReplayRequestRewriter.destination(for: flow(get, authority: "a b:x"), rules: ReplayTargetRules()))
    }

    /// An origin-form target is sent as it is; an absolute-form one from its path on. A
    /// target whose first character is not `/` itself (a combining mark joins it) is
    /// looked into as before.
    func testOriginForm() {
        XCTAssertEqual(ReplayRequestRewriter.originForm("/"), "/")
        XCTAssertEqual(ReplayRequestRewriter.originForm("/a?b=1"), "/a?b=1")
        XCTAssertEqual(ReplayRequestRewriter.originForm("/é"), "/é")
        XCTAssertEqual(ReplayRequestRewriter.originForm("//h/p"), "//h/p")
        XCTAssertEqual(ReplayRequestRewriter.originForm("/x://h/p"), "/x://h/p")
        XCTAssertEqual(ReplayRequestRewriter.originForm("/\u{301}x://h/p"), "/p")
        XCTAssertEqual(ReplayRequestRewriter.originForm("/\u{301}"), "/\u{301}")
        XCTAssertEqual(ReplayRequestRewriter.originForm("http://h:8/p?q"), "/p?q")
        XCTAssertEqual(ReplayRequestRewriter.originForm("http://h?q"), "/?q")
        XCTAssertEqual(ReplayRequestRewriter.originForm("http://h"), "/")
        XCTAssertEqual(ReplayRequestRewriter.originForm("*"), "*")
        XCTAssertEqual(ReplayRequestRewriter.originForm(""), "")
    }
}
