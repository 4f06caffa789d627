import XCTest
@testable import TaplineHTTP2

/// The stream map behaves like a Dictionary under any mix of operations.
final class HTTP2StreamMapTests: XCTestCase {
    func testMatchesDictionaryUnderRandomOperations() {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<50 {
            var map = HTTP2StreamMap<Int>()
            var model: [Int32: Int] = [:]
            // Few distinct ids per round so inserts, replacements and removals collide,
            // including ids that share a home slot (2k and 2k+1) and wrap around the table.
            let idRange: ClosedRange<Int32> = 1...Int32(8 + round * 20)
            for step in 0..<2_000 {
                let id = Int32.random(in: idRange, using: &generator)
                switch Int.random(in: 0..<10, using: &generator) {
                case 0..<5:
                    map[id] = step
                    model[id] = step
                case 5..<8:
                    XCTAssertEqual(map.removeValue(forKey: id), model.removeValue(forKey: id))
                default:
                    map[id] = nil
                    model[id] = nil
                }
                XCTAssertEqual(map.count, model.count)
                XCTAssertEqual(map[id], model[id])
            }
            for id in idRange { XCTAssertEqual(map[id], model[id], "round \(round), id \(id)") }
            XCTAssertEqual(map.entriesByID.map(\.id), model.keys.sorted())
            XCTAssertEqual(map.entriesByID.map(\.value), model.keys.sorted().map { model[$0]! })
            XCTAssertEqual(map.values.sorted(), model.values.sorted())
            XCTAssertEqual(map.isEmpty, model.isEmpty)
        }
    }

    func testGrowsPastItsInitialCapacityAndEmptiesAgain() {
        var map = HTTP2StreamMap<String>()
        let ids = stride(from: Int32(1), through: 2_001, by: 2)
        for id in ids { map[id] = "s\(id)" }
        XCTAssertEqual(map.count, 1_001)
        for id in ids { XCTAssertEqual(map[id], "s\(id)") }
        XCTAssertNil(map[2])
        for id in ids { XCTAssertEqual(map.removeValue(forKey: id), "s\(id)") }
        XCTAssertTrue(map.isEmpty)
        XCTAssertNil(map[1])
        map[7] = "again"
        map.removeAll()
        XCTAssertTrue(map.isEmpty)
        XCTAssertNil(map[7])
    }

    /// A client like h2load keeps ~100 streams open, opening the next id as the oldest
    /// closes. Their slots must not form one long run: every removal walks the run
    /// after the removed slot.
    func testASlidingWindowOfStreamsStaysInShortRuns() {
        var map = HTTP2StreamMap<Int>()
        var nextID: Int32 = 1
        for _ in 0..<100 {
            map[nextID] = 0
            nextID += 2
        }
        var longest = 0
        for oldest in stride(from: Int32(1), to: 20_001, by: 2) {
            XCTAssertNotNil(map.removeValue(forKey: oldest))
            map[nextID] = 0
            nextID += 2
            longest = max(longest, map.longestRun)
        }
        XCTAssertEqual(map.count, 100)
        XCTAssertLessThan(longest, 25, "100 of 256 slots used; identity hashing gives one run of 100")
    }
}
