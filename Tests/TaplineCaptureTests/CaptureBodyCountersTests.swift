import XCTest
import TaplineFlow
@testable import TaplineCapture

/// The array of nearby flows and the dictionary behind it together behave like one
/// dictionary from flow to counts, whatever order flows are updated, read and
/// removed in, with more live flows than the array holds.
final class CaptureBodyCountersTests: XCTestCase {
    func testInterleavedFlowsKeepTheirOwnCounts() {
        var counters = CaptureBodyCounters()
        let a = FlowID(1), b = FlowID(2)
        var counts = CaptureBodyCounters.Counts()
        counts.responseSeen = 10
        counters.set(counts, for: a)
        counts.responseSeen = 20
        counters.set(counts, for: b)
        XCTAssertEqual(counters[a].responseSeen, 10)
        XCTAssertEqual(counters[b].responseSeen, 20)
        counts.responseSeen = 11
        counters.set(counts, for: a)
        XCTAssertEqual(counters[a].responseSeen, 11)
        XCTAssertEqual(counters[b].responseSeen, 20)
        counters.remove(b)
        XCTAssertEqual(counters[b].responseSeen, 0)
        counters.remove(a)
        XCTAssertEqual(counters[a].responseSeen, 0)
    }

    func testRandomOperationsMatchADictionary() {
        var generator = SystemRandomNumberGenerator()
        var counters = CaptureBodyCounters()
        var model: [FlowID: UInt64] = [:]
        let flowCount = UInt64(CaptureBodyCounters.nearbyLimit + 8)
        for step in 0..<5_000 {
            let flow = FlowID(UInt64.random(in: 1...flowCount, using: &generator))
            switch Int.random(in: 0..<10, using: &generator) {
            case 0..<6:
                var counts = counters[flow]
                counts.requestStored += UInt64(step)
                counters.set(counts, for: flow)
                model[flow, default: 0] += UInt64(step)
            case 6..<7:
                counters.remove(flow)
                model[flow] = nil
            default:
                break
            }
            for id in 1...flowCount where counters[FlowID(id)].requestStored != model[FlowID(id)] ?? 0 {
                return XCTFail("flow \(id) at step \(step): \(counters[FlowID(id)].requestStored) != \(model[FlowID(id)] ?? 0)")
            }
        }
    }
}
