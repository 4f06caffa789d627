import TaplineCompression
import XCTest

final class ZlibDeflaterTests: XCTestCase {
    func testPythonDecompressesEveryFormat() throws {
        let input = PythonZlib.sample(count: 200_000, seed: 5)
        let checks: [(ZlibFormat, String)] = [
            (.zlib(windowBits: 15), "zlib.decompress(data)"),
            (.gzip, "gzip.decompress(data)"),
            (.raw(windowBits: 15), "zlib.decompress(data, -15)"),
            (.raw(windowBits: 9), "zlib.decompress(data, -9)"),
            (.zlib(windowBits: 10), "zlib.decompress(data, 10)"),
        ]
        for (format, expression) in checks {
            let compressed = try ZlibDeflater.compress(input, format: format)
            XCTAssertLessThan(compressed.count, input.count / 2)
            let roundTrip = try PythonZlib.run("sys.stdout.buffer.write(\(expression))", input: compressed)
            XCTAssertEqual(roundTrip, input, "\(format)")
            XCTAssertEqual(try ZlibInflater.decompress(compressed, format: format), input, "\(format)")
        }
    }

    func testSyncFlushEndsOnTheEmptyStoredBlockAndKeepsContext() throws {
        let deflater = try ZlibDeflater(format: .raw(windowBits: 15))
        let message = PythonZlib.sample(count: 3000, seed: 2)
        var first: [UInt8] = [], second: [UInt8] = []
        try deflater.compress(message, flush: .sync, into: &first)
        try deflater.compress(message, flush: .sync, into: &second)
        XCTAssertEqual(Array(first.suffix(4)), [0, 0, 0xff, 0xff])
        XCTAssertEqual(Array(second.suffix(4)), [0, 0, 0xff, 0xff])
        XCTAssertLessThan(second.count, first.count / 4)
        let inflater = try ZlibInflater(format: .raw(windowBits: 15))
        var output: [UInt8] = []
        try inflater.decompress(first + second, into: &output)
        XCTAssertEqual(output, message + message)

        deflater.reset()
        var third: [UInt8] = []
        try deflater.compress(message, flush: .sync, into: &third)
        XCTAssertEqual(third, first, "after reset the window is empty again")
    }

    func testLargeStreamingInput() throws {
        let deflater = try ZlibDeflater(format: .gzip, level: 1)
        let block = PythonZlib.sample(count: 1 << 20, seed: 4)
        var compressed: [UInt8] = []
        for _ in 0..<8 { try deflater.compress(block, flush: .none, into: &compressed) }
        try deflater.compress([], flush: .finish, into: &compressed)
        let inflater = try ZlibInflater(format: .gzip, maxOutputBytes: 8 << 20)
        var output: [UInt8] = []
        try inflater.decompress(compressed, into: &output)
        try inflater.finish()
        XCTAssertEqual(output.count, 8 << 20)
        XCTAssertEqual(Array(output.suffix(block.count)), block)
    }

    func testRefusesParametersZlibCannotHonour() {
        XCTAssertThrowsError(try ZlibDeflater(format: .raw(windowBits: 8)))
        XCTAssertThrowsError(try ZlibDeflater(format: .zlibOrGzip))
        XCTAssertThrowsError(try ZlibDeflater(format: .gzip, level: 10))
        XCTAssertThrowsError(try ZlibDeflater(format: .raw(windowBits: 16)))
    }
}
