import XCTest
@testable import TaplineCapture

/// `CapturedFlowIDSet` holds exactly the ids inserted, in whatever order they come
/// (ascending, descending, with gaps, repeated, at the ends of the id range).
final class CapturedFlowIDSetTests: XCTestCase {
    private func assertHoldsExactly(_ inserted: [UInt64], file: StaticString = #filePath, line: UInt = #line) {
        var set = CapturedFlowIDSet()
        var model = Set<UInt64>()
        for id in inserted {
            set.insert(id)
            model.insert(id)
            let probes = model.union(model.flatMap { [$0 &- 1, $0 &+ 1] }).union([0, 1, .max - 1, .max])
            for probe in probes where set.contains(probe) != model.contains(probe) {
                XCTFail("after inserting \(id) of \(inserted): contains(\(probe)) is \(set.contains(probe))", file: file, line: line)
                return
            }
        }
    }

    func testHoldsWhatWasInsertedInAnyOrder() {
        assertHoldsExactly(Array(1...40))
        assertHoldsExactly(Array((1...40).reversed()))
        assertHoldsExactly([5, 3, 4, 1, 2, 9, 7, 6, 8, 8, 3, 12, 10, 11])  // ahead of the run, then reached
        assertHoldsExactly([10, 12, 14, 9, 8, 13, 11, 7, 20, 6])  // gaps filled from both sides
        assertHoldsExactly([.max, 0, .max - 1, 1, .max - 2, 2])  // the ends of the range
        // Permutations of 0...60 (`step` prime to 61), with and without every third id.
        for step in [2, 7, 30, 37, 60] {
            let permutation = (0...60).map { UInt64($0 * step % 61) }
            assertHoldsExactly(permutation)
            assertHoldsExactly(permutation.filter { $0 % 3 != 0 })
        }
    }

    func testRemoveAllEmptiesIt() {
        var set = CapturedFlowIDSet()
        for id: UInt64 in [1, 2, 3, 7] { set.insert(id) }
        set.removeAll()
        XCTAssertFalse([1, 2, 3, 7].contains { set.contains($0) })
        set.insert(5)
        XCTAssertTrue(set.contains(5))
        XCTAssertFalse(set.contains(4) || set.contains(6))
    }
}
