import Foundation
import XCTest
@testable import TaplineCapture

/// `CaptureLineReader`: every line comes back with its number, its offset in the file and
/// its bytes as written, wherever the reader's chunks end (in a line, right before or after
/// its newline, a line longer than a chunk); a last line without its newline is torn unless
/// it is only blanks.
final class CaptureLineReaderTests: XCTestCase {
    private struct ReadLine: Equatable {
        let number: Int
        let offset: UInt64
        let bytes: [UInt8]
    }

    private func read(_ bytes: [UInt8]) throws -> (lines: [ReadLine], torn: Int?) {
        let path = try CaptureTestSupport.makeTemporaryDirectory() + "/events.jsonl"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        var lines: [ReadLine] = []
        var torn: Int?
        try CaptureLineReader.forEachLine(path: path, onLineAt: { number, offset, line in
            lines.append(ReadLine(number: number, offset: offset, bytes: Array(line)))
        }, onTornLine: { torn = $0 })
        var numbered: [Int] = []
        try CaptureLineReader.forEachLine(path: path, onLine: { number, line in
            numbered.append(number)
            XCTAssertEqual(Array(line), lines[number - 1].bytes)
        }, onTornLine: { XCTAssertEqual($0, torn) })
        XCTAssertEqual(numbered, lines.map(\.number))
        return (lines, torn)
    }

    /// The lines of `bytes` as a reader must give them: split at each newline, numbered from 1.
    private func expected(_ bytes: [UInt8]) -> [ReadLine] {
        var lines: [ReadLine] = []
        var start = 0
        for (index, byte) in bytes.enumerated() where byte == 0x0A {
            lines.append(ReadLine(number: lines.count + 1, offset: UInt64(start), bytes: Array(bytes[start..<index])))
            start = index + 1
        }
        return lines
    }

    private func line(_ length: Int, _ mark: UInt8) -> [UInt8] {
        (0..<length).map { UInt8(ascii: "a") &+ UInt8(truncatingIfNeeded: $0 &+ Int(mark)) % 26 } + [0x0A]
    }

    func testLinesAcrossChunkEndsComeBackWithTheirOffsets() throws {
        let chunk = CaptureLineReader.chunkSize
        // Lines whose ends fall just before, on and just after the first chunk's end, then one
        // longer than a chunk, one ending on the third chunk's end, and empty lines.
        for cut in [chunk - 2, chunk - 1, chunk, chunk + 1] {
            var bytes = line(100, 1) + line(0, 2)
            bytes += line(cut - bytes.count - 1, 3)  // its newline at `cut - 1`
            bytes += line(5, 4) + line(chunk + 300, 5) + line(0, 6)
            bytes += line(3 * chunk - bytes.count - 1, 7) + line(7, 8)
            let (lines, torn) = try read(bytes)
            XCTAssertEqual(lines, expected(bytes), "newline at \(cut - 1)")
            XCTAssertNil(torn)
        }
    }

    func testALastLineWithoutItsNewlineIsTornUnlessBlank() throws {
        let whole = line(40, 1) + line(CaptureLineReader.chunkSize, 2)
        for (tail, isTorn) in [([UInt8]("{\"t\":1".utf8), true), ([0x20, 0x09, 0x0D], false), ([], false)] {
            let (lines, torn) = try read(whole + tail)
            XCTAssertEqual(lines, expected(whole))
            XCTAssertEqual(torn, isTorn ? 3 : nil, "tail \(tail)")
        }
    }
}
