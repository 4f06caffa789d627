import Foundation
import XCTest
import TaplineCapture
import TaplineFlow
import TaplineHTTPClient
import TaplineWire
@testable import TaplineReplay

/// A plan streamed without plain heads' fields (`CapturedFlowDetail.withoutPlainHeaders`)
/// or also taking the lines the plan never looks into by their first members
/// (`.replayPlan`, what `tapline replay` reads when nothing it was given looks at the
/// flows) is the plan a whole read makes, as a run reports it: the same flows sent, the
/// same skipped flows with the same reasons, methods and URLs (`.replayPlan` finds those
/// skipped for their bodies when their turn comes, `ReplayPlan.item`), the same notes and
/// schedule of the flows sent, the same warnings, and each item's flow read again whole.
/// A line `.replayPlan` took by its prefix that is damaged after it is found when its
/// flow is read again to be sent, and named.
final class ReplayPlanLightReadTests: XCTestCase {
    private static let checkout = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A closed session (made by `CaptureWriter`) whose events.jsonl is then `lines`; its directory.
    private func makeSession(_ lines: [String]) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("replay-plan-light-\(UUID().uuidString)").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: root) }
        let writer = try CaptureWriter(root: root)
        writer.close()
        try (lines.joined(separator: "\n") + "\n").write(toFile: writer.directory + "/events.jsonl", atomically: false, encoding: .utf8)
        return writer.directory
    }

    /// A session of one flow of each kind a plan tells apart; its directory.
    private func makeSession() throws -> String {
        try makeSession(Self.sessionLines)
    }

    /// The lines of `makeSession()`: one flow of each kind a plan tells apart.
    private static let sessionLines: [String] = {
        let plainHeaders = #"[["Host","api.test"],["Accept","*/*"]]"#
        func plain(_ flow: Int, method: String = "GET", target: String = "/x", authority: String = "api.test:80",
                   kind: String = "http", version: String = "HTTP/1.1", requestEnd: Bool = false, start: Int) -> [String] {
            [#"{"t":\#(start),"type":"flowStarted","flow":\#(flow),"conn":\#(flow % 3 + 1),"kind":"\#(kind)","scheme":"http","authority":"\#(authority)"}"#,
             requestEnd
                ? #"{"t":\#(start + 1),"type":"requestHead","flow":\#(flow),"method":"\#(method)","target":"\#(target)","version":"\#(version)","headers":\#(plainHeaders)}"#
                    + "\n" + #"{"t":\#(start + 1),"type":"requestEnd","flow":\#(flow),"bodyBytes":0,"capturedBytes":0,"truncated":false}"#
                : #"{"t":\#(start + 1),"type":"requestHead","flow":\#(flow),"method":"\#(method)","target":"\#(target)","version":"\#(version)","headers":\#(plainHeaders),"ended":true}"#,
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
        lines += plain(13, start: 240) + [#"{"t":241,"type":"upstreamConnected","flow":13,"server":"10.0.0.1:80","reused":false}"#,
                                          #"{"t":242,"type":"responseHead","flow":13,"version":"HTTP/1.1","status":100,"reason":"Continue","headers":[]}"#]
            + end(13, 245)                                                                      // sent, with an interim response
        lines += plain(14, method: "POST", requestEnd: true, start: 250) + end(14, 255)       // sent, its request ended by a requestEnd
        lines += plain(15, authority: "bad authority:y", start: 260) + end(15, 265, truncated: true)  // truncated, before not host[:port]
        lines += plain(16, start: 270) + [end(16, 275, truncated: true)[0]]                    // truncated, before never ended
        return lines.flatMap { $0.split(separator: "\n").map(String.init) }
    }()

    /// The sessions a lighter read is checked on: `makeSession()`'s, the repository's
    /// sample (written by the proxy), and one of docs/capture-format.md's example lines.
    private func corpus() throws -> [String] {
        let format = try String(contentsOf: Self.checkout.appendingPathComponent("docs/capture-format.md"), encoding: .utf8)
        let examples = format.split(separator: "\n").filter { $0.hasPrefix(#"{"t":"#) }.map(String.init)
        XCTAssertGreaterThan(examples.count, 20)
        return [try makeSession(), Self.checkout.appendingPathComponent("captures/samples/20261126-162657-8bc7").path,
                try makeSession(examples)]
    }

    private func plan(_ directory: String, _ detail: CapturedFlowDetail, rules: ReplayTargetRules = ReplayTargetRules()) throws -> ReplayPlan {
        try stream(directory, detail, rules: rules).plan
    }

    private func stream(_ directory: String, _ detail: CapturedFlowDetail,
                        rules: ReplayTargetRules = ReplayTargetRules()) throws -> (plan: ReplayPlan, session: CapturedSession) {
        try ReplayPlan.stream(directory: directory, detail: detail, select: { _ in true }, rules: rules, allowTruncated: false)
    }

    /// A skipped flow as a user reads it (`ReplaySummaryText`).
    private func text(_ skipped: ReplaySkippedFlow) -> String {
        "\(skipped.source.id) \(skipped.source.request?.method ?? skipped.source.kind.rawValue) \(skipped.source.url): \(skipped.reason)"
    }

    /// What a run of `plan` reports (`ReplayRunner`: each item is read when its turn comes,
    /// and one that throws is skipped, once): the items sent, and every skipped flow as a
    /// user reads it (in flow id order, as `ReplayRunnerGroup.result` lists them), but `left`.
    private func reported(_ plan: ReplayPlan, leaving left: FlowID? = nil) -> (sent: [Int], skipped: [String]) {
        var sent: [Int] = []
        var skipped = plan.skipped
        for number in 0..<plan.itemCount {
            do {
                _ = try plan.item(number)
                sent.append(number)
            } catch {
                skipped.append(error)
            }
        }
        return (sent, skipped.sorted { $0.source.id < $1.source.id }.filter { $0.source.id != left }.map(text))
    }

    private func itemIDs(_ plan: ReplayPlan) -> [FlowID] { (0..<plan.itemCount).map(plan.sourceID) }

    /// The flows a run of `plan` sends, by source id.
    private func sentIDs(_ plan: ReplayPlan) -> [FlowID] { reported(plan).sent.map(plan.sourceID) }

    /// The schedule of the items in `sent`, by source id (`flow@offset`, `+` when it overlaps
    /// the one before it), the offsets from the first of them.
    private func schedule(_ plan: ReplayPlan, sent: [Int]) -> [[String]] {
        let kept = Set(sent)
        let groups = plan.connections.map { $0.filter { kept.contains($0.item) } }.filter { !$0.isEmpty }
        let first = groups.flatMap { $0.map(\.offsetMicroseconds) }.min() ?? 0
        return groups.map { $0.map { "\(plan.sourceID($0.item))@\($0.offsetMicroseconds - first)\($0.overlapsPrevious ? "+" : "")" } }
    }

    /// `light` plans what `whole` does, as a run reports it: flows sent, skipped flows,
    /// notes, the schedule of the flows sent, and each item sent read again as the whole
    /// plan reads it.
    private func assertSamePlan(_ light: ReplayPlan, _ whole: ReplayPlan, _ what: String,
                                file: StaticString = #filePath, line: UInt = #line) throws {
        let (lightRun, wholeRun) = (reported(light), reported(whole))
        XCTAssertEqual(lightRun.sent.map(light.sourceID), wholeRun.sent.map(whole.sourceID), what, file: file, line: line)
        XCTAssertEqual(lightRun.skipped, wholeRun.skipped, what, file: file, line: line)
        XCTAssertEqual(light.notes, whole.notes, what, file: file, line: line)
        XCTAssertEqual(schedule(light, sent: lightRun.sent), schedule(whole, sent: wholeRun.sent), what, file: file, line: line)
        guard lightRun.sent.count == wholeRun.sent.count else { return }
        for (number, wholeNumber) in zip(lightRun.sent, wholeRun.sent) {
            let (sent, expected) = (try light.item(number), try whole.item(wholeNumber))
            XCTAssertEqual(sent.source, expected.source, "\(what): item \(number) is read again alike", file: file, line: line)
            XCTAssertEqual(sent.request.recordedHead, expected.request.recordedHead, what, file: file, line: line)
            XCTAssertEqual(sent.request.target, expected.request.target, what, file: file, line: line)
            XCTAssertEqual(sent.request.offer, expected.request.offer, what, file: file, line: line)
        }
    }

    func testALighterReadPlansAsAWholeReadOnEverySessionOfTheCorpus() throws {
        for directory in try corpus() {
            for rules in [ReplayTargetRules(), ReplayTargetRules(target: try ReplayTarget(url: "http://127.0.0.1:9"))] {
                let whole = try stream(directory, .whole, rules: rules)
                for detail in [CapturedFlowDetail.withoutPlainHeaders, .replayPlan] {
                    let light = try stream(directory, detail, rules: rules)
                    try assertSamePlan(light.plan, whole.plan, "\(detail) \(directory)")
                    XCTAssertEqual(light.session.warnings, whole.session.warnings, "\(detail) \(directory)")
                }
            }
            XCTAssertGreaterThan(try plan(directory, .whole).itemCount, 0, directory)
        }
        let directory = try makeSession()
        let plain = try plan(directory, .whole, rules: ReplayTargetRules())
        XCTAssertEqual((0..<plain.itemCount).map(plain.sourceID), [1, 2, 3, 5, 13, 14].map(FlowID.init))
        XCTAssertEqual(plain.skipped.map(\.source.id.rawValue), [4, 6, 7, 8, 9, 10, 11, 12, 15, 16], "every skip reason is in the session")
        XCTAssertEqual(Set(plain.skipped.map(\.reason.description)).count, 8, "\(plain.skipped.map(\.reason.description))")
        XCTAssertEqual(plain.skipped.filter { [8, 15, 16].contains($0.source.id.rawValue) }.map(\.reason.description),
                       Array(repeating: "its response body was truncated by --max-body-capture (kept 0 of 0 bytes); --allow-truncated sends what was kept",
                             count: 3), "a truncated body is told before a flow that had not ended or goes nowhere")
        // `.replayPlan` finds the flows skipped for their bodies alone when their turn comes.
        let light = try plan(directory, .replayPlan, rules: ReplayTargetRules())
        XCTAssertEqual(itemIDs(light), [1, 2, 3, 5, 8, 10, 13, 14].map(FlowID.init))
        XCTAssertEqual(light.skipped.map(\.source.id.rawValue), [4, 6, 7, 9, 11, 12, 15, 16])
        XCTAssertEqual(sentIDs(light), [1, 2, 3, 5, 13, 14].map(FlowID.init))
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
        for detail in [CapturedFlowDetail.withoutPlainHeaders, .replayPlan] {
            var light: [FlowID: CapturedFlow] = [:]
            _ = try CapturedSession.stream(directory: directory, detail: detail) { flow, _ in light[flow.id] = flow }
            XCTAssertEqual(light.keys.sorted(), whole.keys.sorted())
            for (id, flow) in whole {
                var expected = flow
                let isPlain = flow.request.map { $0.method != "CONNECT" && !$0.headers.contains(name: "Upgrade") } ?? false
                if isPlain {
                    expected.request?.headers = HTTPHeaders()
                    expected.response?.headers = HTTPHeaders()
                    expected.interimResponses = expected.interimResponses.map {
                        HTTPResponseHead(version: $0.version, status: $0.status, reason: $0.reason, headers: HTTPHeaders())
                    }
                }
                if detail == .replayPlan {
                    // Taken by their first members: upstreamConnected and flowEnded (its time
                    // kept), and a plain request's response heads.
                    expected.serverAddress = nil
                    expected.upstreamReused = false
                    expected.upstreamTLS = nil
                    expected.timings = FlowTimings()
                    expected.bytesFromClient = 0
                    expected.bytesFromServer = 0
                    expected.error = nil
                    if isPlain {
                        expected.response = nil
                        expected.responseTime = nil
                        expected.interimResponses = []
                        // Its body lines and message ends too: only that each message ended.
                        for body in [\CapturedFlow.requestBody, \CapturedFlow.responseBody] {
                            var kept = CapturedBody(sessionDirectory: flow[keyPath: body].sessionDirectory)
                            kept.isComplete = flow[keyPath: body].isComplete
                            expected[keyPath: body] = kept
                        }
                        expected.requestTrailers = nil
                        expected.responseTrailers = nil
                    }
                }
                XCTAssertEqual(light[id], expected, "\(detail) flow \(id)")
            }
            XCTAssertEqual(light[FlowID(3)]?.kind, .websocket)
            XCTAssertEqual(light[FlowID(3)]?.response?.status, 101, "a handshake's response is read")
            XCTAssertEqual(light[FlowID(5)]?.isExtendedConnectWebSocket, true)
            XCTAssertEqual(light[FlowID(1)]?.request?.headers.isEmpty, true, "a plain request's fields are not made")
            XCTAssertNotNil(light[FlowID(1)]?.ended, "\(detail): the time a flow ended is read")
        }
    }

    /// Every line of the session damaged two ways: cut short (the prefix reader refuses it,
    /// so both reads skip it alike) and with its end after the flow id replaced by a
    /// broken member that still ends in a brace. A line `.replayPlan` reads the full way
    /// leaves the plan and warnings as a whole read makes them; one it takes by its prefix
    /// is not warned about, the other flows are planned as a whole read plans them, and
    /// its own flow, if it is planned, cannot be sent: reading it again names the line
    /// (but for an `upstreamConnected` line, which that read leaves out: the flow is sent).
    func testADamagedLineIsWarnedAboutWhenReadOrNamedWhenItsFlowIsSent() throws {
        let lines = Self.sessionLines
        var plainRequests = Set<FlowID>()
        _ = try CapturedSession.stream(directory: try makeSession(lines)) { flow, _ in
            if let request = flow.request, request.method != "CONNECT", !request.headers.contains(name: "Upgrade") {
                plainRequests.insert(flow.id)
            }
        }
        XCTAssertEqual(plainRequests.count, 11)
        var takenByPrefix = Set<String>()
        var foundWhenSent = Set<String>()
        var sentWithoutIt = Set<String>()
        for (index, line) in lines.enumerated() {
            let bytes = Array(line.utf8)
            let type = try XCTUnwrap(line.range(of: #""type":"[A-Za-z]+""#, options: .regularExpression)
                .map { String(line[$0].dropFirst(8).dropLast()) })
            let flow = line.range(of: #""flow":[0-9]+"#, options: .regularExpression)
                .flatMap { UInt64(line[$0].dropFirst(7)) }.map(FlowID.init)
            var damaged = [(String(decoding: bytes[..<(bytes.count / 2)], as: UTF8.self), false)]
            if let flowID = line.range(of: #","flow":[0-9]+"#, options: .regularExpression) {
                damaged.append((String(line[..<flowID.upperBound]) + #","status":}"#,
                                type == "upstreamConnected" || type == "flowEnded"
                                    || (["responseHead", "body", "requestEnd", "responseEnd"].contains(type)
                                        && flow.map(plainRequests.contains) == true)))
            }
            for (damage, checkedWhenSent) in damaged {
                var session = lines
                session[index] = damage
                let directory = try makeSession(session)
                let whole = try stream(directory, .whole)
                let light = try stream(directory, .replayPlan)
                let what = "line \(index + 1) as \(damage)"
                XCTAssertFalse(whole.session.warnings.isEmpty, what)
                guard checkedWhenSent, let flowID = flow else {
                    XCTAssertEqual(light.session.warnings, whole.session.warnings, what)
                    try assertSamePlan(light.plan, whole.plan, what)
                    continue
                }
                takenByPrefix.insert(type)
                XCTAssertEqual(light.session.warnings.count + 1, whole.session.warnings.count, what)
                XCTAssertEqual(sentIDs(light.plan).filter { $0 != flowID }, sentIDs(whole.plan).filter { $0 != flowID }, what)
                XCTAssertEqual(reported(light.plan, leaving: flowID).skipped, reported(whole.plan, leaving: flowID).skipped, what)
                let reportedOfFlow = { (plan: ReplayPlan) in self.reported(plan).skipped.filter { $0.hasPrefix("\(flowID) ") } }
                if itemIDs(light.plan).contains(flowID), type == "upstreamConnected" {
                    // The read at send time leaves this line out unread (`.replaySend`):
                    // where the recording went upstream is neither sent nor compared.
                    XCTAssertEqual(reportedOfFlow(light.plan), reportedOfFlow(whole.plan), what)
                    if reportedOfFlow(light.plan).isEmpty { sentWithoutIt.insert(type) }
                } else if let number = itemIDs(light.plan).firstIndex(of: flowID) {
                    let offset = lines[..<index].reduce(0) { $0 + $1.utf8.count + 1 }
                    XCTAssertThrowsError(try light.plan.item(number), what) { error in
                        let reason = (error as? ReplaySkippedFlow)?.reason.description ?? ""
                        XCTAssertTrue(reason.contains("its \(type) line is damaged"), "\(what): \(reason)")
                        XCTAssertTrue(reason.contains("the line at byte \(offset)"), "\(what): \(reason)")
                    }
                    foundWhenSent.insert(type)
                } else {
                    // Skipped when planned: for the reason a whole read gives, or, when that
                    // needed the flow read again, naming the line.
                    XCTAssertTrue(light.plan.skipped.contains { $0.source.id == flowID }, what)
                    let reason = reportedOfFlow(light.plan)
                    XCTAssertTrue(reason == reportedOfFlow(whole.plan) || reason.first?.contains("its \(type) line is damaged") == true,
                                  "\(what): \(reason)")
                }
            }
        }
        XCTAssertEqual(takenByPrefix, ["upstreamConnected", "responseHead", "body", "requestEnd", "responseEnd", "flowEnded"])
        XCTAssertEqual(foundWhenSent, ["responseHead", "body", "requestEnd", "responseEnd", "flowEnded"])
        XCTAssertEqual(sentWithoutIt, ["upstreamConnected"])
    }

    /// The case a user meets: a flow whose `flowEnded` line is damaged after its first
    /// members. A whole read warns and skips the flow as not ended; `.replayPlan` plans it,
    /// and the flow is skipped when its turn comes, the reason naming the line.
    func testAFlowEndedDamagedAfterItsFirstMembersIsSkippedWhenSentNamingTheLine() throws {
        var lines = Self.sessionLines
        let index = try XCTUnwrap(lines.firstIndex(of: #"{"t":111,"type":"flowEnded","flow":1,"bytesFromClient":10,"bytesFromServer":20}"#))
        lines[index] = #"{"t":111,"type":"flowEnded","flow":1,"bytesFromClient":1O,"bytesFromServer":20}"#
        let directory = try makeSession(lines)
        let whole = try stream(directory, .whole)
        XCTAssertEqual(whole.session.warnings, ["events.jsonl:\(index + 1): not a JSON object (corrupt line); line skipped"])
        XCTAssertEqual(whole.plan.skipped.first?.source.id, FlowID(1))
        XCTAssertEqual(whole.plan.skipped.first?.reason.description,
                       "it was not recorded whole: it had not ended when its session stopped (the proxy was killed or is still running)")
        let light = try stream(directory, .replayPlan)
        XCTAssertEqual(light.session.warnings, [])
        XCTAssertEqual(itemIDs(light.plan).first, FlowID(1))
        let offset = lines[..<index].reduce(0) { $0 + $1.utf8.count + 1 }
        XCTAssertThrowsError(try light.plan.item(0)) { error in
            XCTAssertEqual((error as? ReplaySkippedFlow)?.source.id, FlowID(1))
            XCTAssertEqual((error as? ReplaySkippedFlow)?.reason.description,
                           "it could not be read again from the session: cannot read \(directory)/events.jsonl: its flowEnded line is damaged after its first members (not a JSON object (corrupt line)): the line at byte \(offset)")
        }
        // A reader for another thread checks the same.
        XCTAssertThrowsError(try light.plan.withOwnReader().item(0))
    }
}
