import Foundation
import XCTest
import TaplineCapture
import TaplineFlow
import TaplineHTTPClient
import TaplineWire
@testable import TaplineReplay

/// A plan streamed without plain heads' fields (`CapturedFlowDetail.withoutPlainHeaders`,
/// what `tapline replay` reads when nothing it was given looks at fields) is the plan a
/// whole read makes: the same items, skipped flows with the same reasons, methods and
/// URLs, the same notes and schedule, and each item's flow read again whole.
final class ReplayPlanLightReadTests: XCTestCase {
    /// A closed session (made by `CaptureWriter`) whose events.jsonl is then `lines`, one
    /// flow of each kind a plan tells apart; its directory.
    private func makeSession() throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("replay-plan-light-\(UUID().uuidString)").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: root) }
        let writer = try CaptureWriter(root: root)
        writer.close()
        let plainHeaders = #"[["Host","api.test"],["Accept","*/*"]]"#
        func plain(_ flow: Int, method: String = "GET", target: String = "/x", authority: String = "api.test:80",
                   kind: String = "http", version: String = "HTTP/1.1", start: Int) -> [String] {
            [#"{"t":\#(start),"type":"flowStarted","flow":\#(flow),"conn":\#(flow % 3 + 1),"kind":"\#(kind)","scheme":"http","authority":"\#(authority)"}"#,
             #"{"t":\#(start + 1),"type":"requestHead","flow":\#(flow),"method":"\#(method)","target":"\#(target)","version":"\#(version)","headers":\#(plainHeaders),"ended":true}"#,
             #"{"t":\#(start + 2),"type":"upstreamConnected","flow":\#(flow),"server":"10.0.0.\#(flow):80","reused":\#(flow % 2 == 0)}"#,
             #"{"t":\#(start + 2),"type":"responseHead","flow":\#(flow),"version":"\#(version)","status":200,"reason":"OK","headers":[["Content-Type","text/plain"]]}"#]
        }
        func end(_ flow: Int, _ time: Int, truncated: Bool = false) -> [String] {
            [#"{"t":\#(time),"type":"responseEnd","flow":\#(flow),"bodyBytes":0,"truncated":\#(truncated)}"#,
             #"{"t":\#(time + 1),"type":"flowEnded","flow":\#(flow),"bytesFromClient":10,"bytesFromServer":20}"#]
        }
        var lines: [String] = []
        lines += plain(1, start: 100) + end(1, 110)                                           // sent
        lines += plain(2, method: "POST", version: "HTTP/2", start: 120) + end(2, 130)         // sent over h2c
        lines += [#"{"t":140,"type":"flowStarted","flow":3,"conn":1,"kind":"http","scheme":"http","authority":"api.test:80"}"#,
                  #"{"t":141,"type":"requestHead","flow":3,"method":"GET","target":"/ws","version":"HTTP/1.1","headers":[["Host","api.test"],["upgrade","websocket"],["Connection","Upgrade"],["Sec-WebSocket-Key","a2V5a2V5a2V5a2V5a2V5MQ=="],["Sec-WebSocket-Version","13"]],"ended":true}"#,
                  #"{"t":142,"type":"responseHead","flow":3,"version":"HTTP/1.1","status":101,"reason":"Switching Protocols","headers":[["Upgrade","websocket"],["Connection","Upgrade"]]}"#,
                  #"{"t":143,"type":"wsMessage","flow":3,"dir":"client","opcode":"text","wireBytes":7,"size":1,"text":"a"}"#,
                  #"{"t":144,"type":"flowEnded","flow":3}"#]                                  // WebSocket, sent
        lines += [#"{"t":150,"type":"flowStarted","flow":4,"conn":2,"kind":"http","scheme":"http","authority":"api.test:80"}"#,
                  #"{"t":151,"type":"requestHead","flow":4,"method":"GET","target":"/ws","version":"HTTP/1.1","headers":[["Host","api.test"],["Upgrade","websocket"],["Connection","Upgrade"]],"ended":true}"#,
                  #"{"t":152,"type":"responseHead","flow":4,"version":"HTTP/1.1","status":403,"reason":"Forbidden","headers":[]}"#,
                  #"{"t":153,"type":"wsMessage","flow":4,"dir":"client","opcode":"text","wireBytes":7,"size":1,"text":"a"}"#,
                  #"{"t":154,"type":"flowEnded","flow":4}"#]                                  // refused handshake
        lines += [#"{"t":160,"type":"flowStarted","flow":5,"conn":3,"kind":"http","scheme":"https","authority":"api.test:443","stream":1}"#,
                  #"{"t":161,"type":"requestHead","flow":5,"method":"CONNECT","target":"/chat","version":"HTTP/2","headers":[[":protocol","websocket"],[":authority","api.test"]],"ended":true}"#,
                  #"{"t":162,"type":"responseHead","flow":5,"version":"HTTP/2","status":200,"reason":"","headers":[]}"#,
                  #"{"t":163,"type":"flowEnded","flow":5}"#]                                  // RFC 8441 WebSocket
        lines += plain(6, method: "CONNECT", target: "api.test:443", authority: "api.test:443", kind: "tunnel", start: 170) + end(6, 175)
        lines += [#"{"t":180,"type":"flowStarted","flow":7,"conn":1,"kind":"tls-failed","scheme":"https","authority":"api.test:443"}"#,
                  #"{"t":181,"type":"flowEnded","flow":7}"#]
        lines += plain(8, start: 190) + end(8, 195, truncated: true)                           // truncated response
        lines += [#"{"t":200,"type":"flowStarted","flow":9,"conn":2,"kind":"http","scheme":"http","authority":"api.test:80"}"#,
                  #"{"t":201,"type":"requestHead","flow":9,"method":"PUT","target":"/x","version":"HTTP/1.1","headers":\#(plainHeaders)}"#,
                  #"{"t":202,"type":"flowEnded","flow":9}"#]                                  // request not whole
        lines += plain(10, start: 210) + [#"{"t":212,"type":"body","flow":10,"dir":"response","seg":7,"off":0,"len":4}"#]
            + end(10, 215)                                                                      // body segment missing
        lines += plain(11, authority: "bad authority:x", start: 220) + end(11, 225)            // not host[:port]
        lines += plain(12, start: 230)                                                          // never ended
        try (lines.joined(separator: "\n") + "\n").write(toFile: writer.directory + "/events.jsonl", atomically: false, encoding: .utf8)
        return writer.directory
    }

    private func plan(_ directory: String, _ detail: CapturedFlowDetail, rules: ReplayTargetRules) throws -> ReplayPlan {
        try ReplayPlan.stream(directory: directory, detail: detail, select: { _ in true }, rules: rules,
                              allowTruncated: false).plan
    }

    func testAPlanFromAReadWithoutPlainHeadersIsThePlanFromAWholeRead() throws {
        let directory = try makeSession()
        for rules in [ReplayTargetRules(), ReplayTargetRules(target: try ReplayTarget(url: "http://127.0.0.1:9"))] {
            let whole = try plan(directory, .whole, rules: rules)
            let light = try plan(directory, .withoutPlainHeaders, rules: rules)
            XCTAssertEqual(light.itemCount, whole.itemCount)
            XCTAssertEqual((0..<light.itemCount).map(light.sourceID), (0..<whole.itemCount).map(whole.sourceID))
            XCTAssertEqual(light.skipped.map { "\($0.source.id) \($0.source.request?.method ?? $0.source.kind.rawValue) \($0.source.url): \($0.reason)" },
                           whole.skipped.map { "\($0.source.id) \($0.source.request?.method ?? $0.source.kind.rawValue) \($0.source.url): \($0.reason)" })
            XCTAssertEqual(light.notes, whole.notes)
            XCTAssertEqual(light.connections, whole.connections)
            for number in 0..<light.itemCount {
                let (sent, expected) = (try light.item(number), try whole.item(number))
                XCTAssertEqual(sent.source, expected.source, "item \(number) is read again alike")
                XCTAssertEqual(sent.request.recordedHead, expected.request.recordedHead)
                XCTAssertEqual(sent.request.target, expected.request.target)
                XCTAssertEqual(sent.request.offer, expected.request.offer)
            }
        }
        let plain = try plan(directory, .whole, rules: ReplayTargetRules())
        XCTAssertEqual((0..<plain.itemCount).map(plain.sourceID), [FlowID(1), FlowID(2), FlowID(3), FlowID(5)])
        XCTAssertEqual(plain.skipped.map(\.source.id.rawValue), [4, 6, 7, 8, 9, 10, 11, 12], "every skip reason is in the session")
        XCTAssertEqual(Set(plain.skipped.map(\.reason.description)).count, 8, "\(plain.skipped.map(\.reason.description))")
        let viaHTTP1 = try plan(directory, .whole, rules: ReplayTargetRules(target: try ReplayTarget(url: "http://127.0.0.1:9")))
        XCTAssertEqual(viaHTTP1.notes.count, 1, "the RFC 8441 WebSocket goes as an HTTP/1.1 Upgrade, and says so")
    }

    func testAnItemIsItsFlowReadAgainWithoutWhereItWentUpstreamAndItsRequestIsAHeldPlans() throws {
        let directory = try makeSession()
        var whole: [CapturedFlow] = []
        _ = try CapturedSession.stream(directory: directory) { flow, _ in whole.append(flow) }
        whole.sort { $0.id < $1.id }
        XCTAssertEqual(whole.first?.serverAddress, "10.0.0.1:80", "the session records where flows went upstream")
        XCTAssertEqual(whole.dropFirst().first?.upstreamReused, true)
        let streamed = try plan(directory, .whole, rules: ReplayTargetRules())
        let held = ReplayPlan(flows: whole, rules: ReplayTargetRules(), allowTruncated: false)
        XCTAssertEqual(streamed.itemCount, held.itemCount)
        for number in 0..<streamed.itemCount {
            let (sent, expected) = (try streamed.item(number), try held.item(number))
            var source = expected.source
            source.serverAddress = nil
            source.upstreamReused = false
            source.upstreamTLS = nil
            XCTAssertEqual(sent.source, source, "item \(number)")
            XCTAssertEqual(sent.request.recordedHead, expected.request.recordedHead)
            XCTAssertEqual(sent.request.target, expected.request.target)
            XCTAssertEqual(sent.request.offer, expected.request.offer)
            XCTAssertEqual(sent.request.bodyBytes, expected.request.bodyBytes)
        }
    }

    func testAReadWithoutPlainHeadersKeepsEveryFieldAHandshakeNeeds() throws {
        let directory = try makeSession()
        var whole: [FlowID: CapturedFlow] = [:]
        _ = try CapturedSession.stream(directory: directory) { flow, _ in whole[flow.id] = flow }
        var light: [FlowID: CapturedFlow] = [:]
        _ = try CapturedSession.stream(directory: directory, detail: .withoutPlainHeaders) { flow, _ in light[flow.id] = flow }
        XCTAssertEqual(light.keys.sorted(), whole.keys.sorted())
        for (id, flow) in whole {
            var expected = flow
            if let request = flow.request, request.method != "CONNECT", !request.headers.contains(name: "Upgrade") {
                expected.request?.headers = HTTPHeaders()
                expected.response?.headers = HTTPHeaders()
            }
            XCTAssertEqual(light[id], expected, "flow \(id)")
        }
        XCTAssertEqual(light[FlowID(3)]?.kind, .websocket)
        XCTAssertEqual(light[FlowID(5)]?.isExtendedConnectWebSocket, true)
        XCTAssertEqual(light[FlowID(1)]?.request?.headers.isEmpty, true, "a plain request's fields are not made")
    }
}
