import TaplineCompression
import XCTest

/// `decompress(_:stoppingAfter:into:)`: a large output comes out in steps, the caller
/// handing back the rest of the input, and nothing is lost between steps (including
/// output zlib still held when the input was used up).
final class ZlibInflaterStepTests: XCTestCase {
    func testALargeOutputComesOutInStepsOfAboutTheStepSize() throws {
        let original = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 % 251 == 0 ? $0 : 0) }
        let compressed = try ZlibDeflater.compress(original, format: .raw(windowBits: 15))
        XCTAssertLessThan(compressed.count, 200_000)
        let inflater = try ZlibInflater(format: .raw(windowBits: 15))
        var output: [UInt8] = []
        var used = 0
        var steps = 0
        let step = 100_000
        while !inflater.isFinished {
            let before = output.count
            used += try inflater.decompress(compressed[used...], stoppingAfter: step, into: &output)
            let produced = output.count - before
            XCTAssertLessThan(produced, step + (64 << 10), "one step is at most 64 KiB over")
            steps += 1
            XCTAssertLessThan(steps, 100)
        }
        XCTAssertEqual(used, compressed.count)
        XCTAssertEqual(output, original)
        XCTAssertGreaterThanOrEqual(steps, (3 << 20) / (step + (64 << 10)))
    }

    func testTheSmallestStepMakesProgressOnEveryCallUpToTheEnd() throws {
        let original = [UInt8](repeating: 0, count: 1 << 20)
        let compressed = try ZlibDeflater.compress(original, format: .raw(windowBits: 15), level: 9)
        let inflater = try ZlibInflater(format: .raw(windowBits: 15))
        var output: [UInt8] = []
        var used = 0
        while !inflater.isFinished {
            let before = output.count
            // Near the end the input is used up while zlib still holds output: the call
            // with nothing left to give must still hand it out.
            used += try inflater.decompress(compressed[used...], stoppingAfter: 1, into: &output)
            XCTAssertGreaterThan(output.count, before, "every call yields output until the end")
            XCTAssertLessThanOrEqual(output.count - before, 64 << 10)
        }
        XCTAssertEqual(used, compressed.count)
        XCTAssertEqual(output, original)
    }
}
