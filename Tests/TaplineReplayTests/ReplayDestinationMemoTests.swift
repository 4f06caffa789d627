import XCTest
import TaplineCapture
import TaplineFlow
import TaplineWire
@testable import TaplineReplay

/// `ReplayDestinationMemo` gives, flow after flow, what `ReplayRequestRewriter.destination`
/// gives for each (the last destination is reused only for the same scheme, authority and
/// HTTP version).
final class ReplayDestinationMemoTests: XCTestCase {
    private func flow(_ id: UInt64, scheme: String, authority: String, version: HTTPVersion) -> CapturedFlow {
        var flow = CapturedFlow(id: FlowID(id), connection: ConnectionID(1), kind: .http, scheme: scheme, authority: authority,
                                started: Timestamp(microseconds: 0), sessionDirectory: "/s")
        flow.request = HTTPRequestHead(method: "GET", target: "/", version: version, headers: HTTPHeaders([("Host", authority)]))
        return flow
    }

    func testEveryFlowGoesWhereTheRewriterSendsIt() throws {
        let flows = [
            flow(1, scheme: "http", authority: "a.test:80", version: .http1_1),
            flow(2, scheme: "http", authority: "a.test:80", version: .http1_1),
            flow(3, scheme: "http", authority: "a.test:80", version: .http2),
            flow(4, scheme: "https", authority: "a.test:80", version: .http2),
            flow(5, scheme: "https", authority: "b.test", version: .http2),
            flow(6, scheme: "https", authority: "b.test", version: .http1_1),
            flow(7, scheme: "http", authority: "a.test:80", version: .http1_1),
            flow(8, scheme: "http", authority: "bad authority:x", version: .http1_1),
            flow(9, scheme: "http", authority: "a.test:80", version: .http1_1),
        ]
        for rules in [ReplayTargetRules(), ReplayTargetRules(hostMap: ["a.test:80": "c.test:8080"])] {
            let memo = ReplayDestinationMemo(rules: rules)
            for flow in flows {
                let expected = Result { () throws(ReplaySkipReason) in try ReplayRequestRewriter.destination(for: flow, rules: rules) }
                let given = Result { () throws(ReplaySkipReason) in try memo.destination(for: flow) }
                switch (given, expected) {
                case (.success(let given), .success(let expected)):
                    XCTAssertEqual(given.target, expected.target, "flow \(flow.id)")
                    XCTAssertEqual(given.offer, expected.offer, "flow \(flow.id)")
                    XCTAssertEqual(given.sendsExtendedConnect, expected.sendsExtendedConnect, "flow \(flow.id)")
                case (.failure(let given), .failure(let expected)):
                    XCTAssertEqual(given.description, expected.description, "flow \(flow.id)")
                default:
                    XCTFail("flow \(flow.id): \(given) against \(expected)")
                }
            }
        }
    }
}
