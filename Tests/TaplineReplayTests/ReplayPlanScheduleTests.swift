import TaplineCapture
import TaplineFlow
@testable import TaplineReplay
import TaplineWire
import XCTest

/// `ReplayPlan.connections`: items grouped by recorded connection (groups in the order of
/// their first flow to start), each group in start order (ties in item order), offsets
/// from the first start, and an HTTP/2 flow that started before the previous one of its
/// connection ended marked as overlapping it; the same whether the items come in start
/// order or not.
final class ReplayPlanScheduleTests: XCTestCase {
    private func flow(_ id: UInt64, connection: UInt64, started: Int64, ended: Int64, http2: Bool) -> CapturedFlow {
        var flow = CapturedFlow(id: FlowID(id), connection: ConnectionID(connection), kind: .http, scheme: "http",
                                authority: "api.test:8080", started: Timestamp(microseconds: started), sessionDirectory: "/nonexistent")
        flow.request = HTTPRequestHead(method: "GET", target: "/\(id)", version: http2 ? .http2 : .http1_1,
                                       headers: HTTPHeaders([(name: "Host", value: "api.test:8080")]))
        flow.requestBody.isComplete = true
        flow.ended = Timestamp(microseconds: ended)
        return flow
    }

    /// The plan's groups by source id: `id@offset`, `+` when it overlaps the one before.
    private func schedule(_ flows: [CapturedFlow]) -> [[String]] {
        let plan = ReplayPlan(flows: flows, rules: ReplayTargetRules(), allowTruncated: false)
        XCTAssertEqual(plan.itemCount, flows.count)
        return plan.connections.map { $0.map { "\(plan.sourceID($0.item))@\($0.offsetMicroseconds)\($0.overlapsPrevious ? "+" : "")" } }
    }

    private var flows: [CapturedFlow] {
        [flow(1, connection: 1, started: 300, ended: 400, http2: false),
         flow(2, connection: 2, started: 100, ended: 500, http2: true),
         flow(3, connection: 2, started: 200, ended: 250, http2: true),   // before 2 ended
         flow(4, connection: 1, started: 300, ended: 350, http2: false),  // as 1 starts, HTTP/1.1
         flow(5, connection: 2, started: 600, ended: 700, http2: true)]   // after 2 and 3 ended
    }

    func testItemsOutOfStartOrderAreScheduledInIt() {
        XCTAssertEqual(schedule(flows), [["2@0", "3@100+", "5@500"], ["1@200", "4@200"]])
    }

    func testItemsInStartOrderAreScheduledAlike() {
        let inStartOrder = flows.sorted { ($0.started, $0.id) < ($1.started, $1.id) }
        XCTAssertEqual(schedule(inStartOrder), [["2@0", "3@100+", "5@500"], ["1@200", "4@200"]])
        XCTAssertEqual(schedule([]), [])
    }
}
