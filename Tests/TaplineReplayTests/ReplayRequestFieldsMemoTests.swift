import TaplineCapture
import TaplineFlow
import TaplineHTTPClient
@testable import TaplineReplay
import TaplineWire
import XCTest

/// `ReplayRequestFieldsMemo`: flow after flow, the request made with the memo is the one
/// made without it (the last fields are reused only for the same recorded fields, framing
/// and Host).
final class ReplayRequestFieldsMemoTests: XCTestCase {
    private func flow(_ id: UInt64, method: String = "GET", target: String = "/a", version: HTTPVersion = .http1_1,
                      authority: String = "api.test:8080", fields: [HTTPHeaders.Field], bodyBytes: UInt64 = 0,
                      trailers: HTTPHeaders? = nil) -> CapturedFlow {
        var flow = CapturedFlow(id: FlowID(id), connection: ConnectionID(1), kind: .http, scheme: "http", authority: authority,
                                started: Timestamp(microseconds: 0), sessionDirectory: "/nonexistent")
        flow.request = HTTPRequestHead(method: method, target: target, version: version, headers: HTTPHeaders(fields))
        flow.requestBody.capturedBytes = bodyBytes
        flow.requestBody.bodyBytes = bodyBytes
        flow.requestBody.isComplete = true
        flow.requestTrailers = trailers
        flow.ended = Timestamp(microseconds: 1_000)
        return flow
    }

    private func fields(_ head: LegRequestHead) -> [String] {
        switch head {
        case .http1(let head): ["\(head.method) \(head.target) \(head.version)"] + head.headers.map { "\($0.name): \($0.value)" }
        case .http2(let block): ["h2"] + block.map { "\($0.name): \($0.value)" }
        }
    }

    func testEveryFlowGetsTheFieldsMadeForItAlone() throws {
        let plain: [HTTPHeaders.Field] = [("Accept-Encoding", "identity"), ("Host", "h.test"), ("User-Agent", "u"),
                                          ("Connection", "close")]
        let flows = [
            flow(1, fields: plain),
            flow(2, target: "/b", fields: plain),                            // same fields, another target
            flow(3, method: "HEAD", fields: plain),                          // another method
            flow(4, fields: plain, bodyBytes: 5),                            // framed with a length
            flow(5, fields: plain, bodyBytes: 7),                            // another length
            flow(6, fields: plain, bodyBytes: 7, trailers: HTTPHeaders([("X-T", "1")])),  // chunked
            flow(7, fields: plain),
            flow(8, authority: "other.test", fields: plain),                 // another Host
            flow(9, fields: [("Accept-Encoding", "identity"), ("Host", "h.test"), ("User-Agent", "v"), ("Connection", "close")]),
            flow(10, fields: [("Accept-Encodin", "gidentity"), ("Host", "h.test"), ("User-Agent", "v"), ("Connection", "close")]),
            flow(11, fields: [("accept-encoding", "identity"), ("Host", "h.test"), ("User-Agent", "v"), ("Connection", "close")]),
            flow(12, fields: [("Host", "h.test"), ("Accept-Encoding", "identity"), ("User-Agent", "v"), ("Connection", "close")]),
            flow(13, fields: [("Host", "h.test"), ("Accept-Encoding", "identity"), ("User-Agent", "v")]),
            flow(14, fields: [("Host", "h.test"), ("Accept-Encoding", "identity"), ("User-Agent", "v")]),
            flow(15, version: .http2, fields: [(":method", "GET"), (":path", "/a"), (":authority", "h.test"), ("accept", "*/*")]),
            flow(16, version: .http2, fields: [(":method", "GET"), (":path", "/a"), (":authority", "h.test"), ("accept", "*/*")]),
            flow(17, fields: [("Host", "h.test"), ("Content-Length", "3")], bodyBytes: 3),
            flow(18, fields: [("Host", "h.test"), ("Content-Length", "3")], bodyBytes: 3),
            flow(19, fields: []),
            flow(20, fields: []),
        ]
        for rules in [ReplayTargetRules(), ReplayTargetRules(keepHost: true),
                      ReplayTargetRules(hostMap: ["api.test:8080": "mapped.test:9"])] {
            let memo = ReplayRequestFieldsMemo()
            for flow in flows {
                let destination = try ReplayRequestRewriter.destination(for: flow, rules: rules)
                let alone = try ReplayRequestRewriter.request(for: flow, rules: rules, to: destination)
                let memoized = try ReplayRequestRewriter.request(for: flow, rules: rules, to: destination, fields: memo)
                XCTAssertEqual(fields(memoized.head), fields(alone.head), "flow \(flow.id)")
                XCTAssertEqual(memoized.recordedHead, alone.recordedHead, "flow \(flow.id)")
                XCTAssertEqual(memoized.expectsContinue, alone.expectsContinue, "flow \(flow.id)")
                XCTAssertEqual(memoized.bodyBytes, alone.bodyBytes, "flow \(flow.id)")
            }
        }
    }

    func testTheLastFieldsAreReusedForTheSameArgumentsOnly() {
        let memo = ReplayRequestFieldsMemo()
        let recorded = HTTPHeaders([("Host", "a"), ("Accept", "*/*")])
        var made = 0
        func ask(_ recorded: HTTPHeaders, _ framing: HTTP1BodyFraming, _ host: String) -> HTTPHeaders {
            if let reused = memo.fields(recorded: recorded, framing: framing, host: host) { return reused }
            made += 1
            let fields = HTTPHeaders([("Host", host), ("N", String(made))])
            memo.remember(fields, recorded: recorded, framing: framing, host: host)
            return fields
        }
        XCTAssertEqual(ask(recorded, .none, "h").first(name: "N"), "1")
        XCTAssertEqual(ask(HTTPHeaders([("Host", "a"), ("Accept", "*/*")]), .none, "h").first(name: "N"), "1")
        XCTAssertEqual(ask(recorded, .contentLength(0), "h").first(name: "N"), "2")
        XCTAssertEqual(ask(recorded, .contentLength(1), "h").first(name: "N"), "3")
        XCTAssertEqual(ask(recorded, .contentLength(1), "i").first(name: "N"), "4")
        XCTAssertEqual(ask(HTTPHeaders([("Hos", "ta"), ("Accept", "*/*")]), .contentLength(1), "i").first(name: "N"), "5")
        XCTAssertEqual(ask(HTTPHeaders([("Host", "a"), ("Accept", "*/*")]), .contentLength(1), "i").first(name: "N"), "6")
        XCTAssertEqual(ask(HTTPHeaders(), .contentLength(1), "i").first(name: "N"), "7")
        XCTAssertEqual(ask(HTTPHeaders(), .contentLength(1), "i").first(name: "N"), "7")
        // A Host of other bytes, even canonically equivalent text, is another Host.
        XCTAssertEqual(ask(recorded, .none, "caf\u{E9}.test").first(name: "N"), "8")
        XCTAssertEqual(ask(recorded, .none, "cafe\u{301}.test").first(name: "N"), "9")
        XCTAssertEqual(ask(recorded, .none, "cafe\u{301}.test").first(name: "N"), "9")
        XCTAssertEqual(made, 9)
    }
}
