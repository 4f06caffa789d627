import XCTest
@testable import TaplineCapture

/// `CapturedFlowLineTable`: every flow's lines come back as they were appended, whatever
/// their offsets, gaps and lengths, across block and chunk boundaries, in copies too,
/// and a typical line costs ~3 bytes.
final class CapturedFlowLineTableTests: XCTestCase {
    private typealias Line = CapturedFlowLineTable.Line

    /// The lines of flow `position`, after checking that the span it gives is theirs.
    private func lines(of table: CapturedFlowLineTable, at position: Int,
                       file: StaticString = #filePath, line: UInt = #line) -> [Line] {
        let flow = table.lines(at: position)
        let lines: [Line] = flow.map { ($0.offset, UInt32($0.length)) }
        let span = lines.first.map { first in first.offset..<(lines[lines.count - 1].offset + UInt64(lines[lines.count - 1].length)) }
        XCTAssertEqual(flow.span, span, "flow \(position)'s span", file: file, line: line)
        return lines
    }

    private func assertLines(_ actual: [Line], _ expected: [Line], _ message: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.map(\.offset), expected.map(\.offset), message, file: file, line: line)
        XCTAssertEqual(actual.map(\.length), expected.map(\.length), message, file: file, line: line)
    }

    func testLinesFarApartAndOfAnyLengthComeBack() {
        let flows: [[Line]] = [
            [(0, 1), (2, 0), (3, UInt32.max)],  // lines that follow each other; an empty one; the longest length
            [(1 << 40, 300), ((1 << 40) + 300 + (1 << 33), 7)],  // a gap over 2^32
            [(UInt64.max - 100, 10), (UInt64.max - 10, 10)],  // offsets near the top of UInt64
            [(5, 5)],
            [((1 << 35) + 1, 127), ((1 << 35) + 128, 128), ((1 << 35) + 256 + 127, 16_384)],  // varint byte edges
        ]
        for blockSize in [1, 5, 16, 64 << 10] {
            var table = CapturedFlowLineTable(blockSize: blockSize, chunkShift: blockSize > 16 ? 13 : 1)
            for (position, flow) in flows.enumerated() { XCTAssertEqual(table.append(lines: flow), position) }
            table.trimLastBlocks()
            XCTAssertEqual(table.count, flows.count)
            for (position, flow) in flows.enumerated() {
                assertLines(lines(of: table, at: position), flow, "flow \(position), blocks of \(blockSize) bytes")
            }
        }
    }

    func testAFlowWithoutLinesHasNoneAndItsNeighboursKeepTheirs() {
        var table = CapturedFlowLineTable(blockSize: 2, chunkShift: 1)
        _ = table.append(lines: [(10, 3)])
        _ = table.append(lines: [])
        _ = table.append(lines: [(20, 4), (25, 1)])
        _ = table.append(lines: [])
        _ = table.append(lines: [(30, 0)])
        assertLines(lines(of: table, at: 0), [(10, 3)], "flow 0")
        assertLines(lines(of: table, at: 1), [], "flow 1")
        XCTAssertNil(table.lines(at: 1).span)
        assertLines(lines(of: table, at: 2), [(20, 4), (25, 1)], "flow 2")
        assertLines(lines(of: table, at: 3), [], "flow 3")
        assertLines(lines(of: table, at: 4), [(30, 0)], "flow 4: one empty line is a line")
        XCTAssertEqual(table.lines(at: 4).span, 30..<30)
    }

    /// 200,000 interleaved flows (each one's lines spread among its neighbours', as
    /// flows recorded at once are) in blocks of 40 bytes (one or a few flows each; a flow of
    /// more gets a block of its own) and chunks of 4 flows.
    func testManyInterleavedFlowsAcrossBlockBoundariesComeBack() {
        var table = CapturedFlowLineTable(blockSize: 40, chunkShift: 2)
        var expected: [[Line]] = []
        var random: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: UInt64) -> UInt64 {
            random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return (random >> 33) % bound
        }
        var fileEnd: UInt64 = 0
        for _ in 0..<200_000 {
            var flow: [Line] = []
            var offset = fileEnd
            for _ in 0..<(1 + next(9)) {
                let length = UInt32(1 + next(next(4) == 0 ? 100_000 : 600))
                flow.append((offset, length))
                offset += UInt64(length) + 1 + (next(3) == 0 ? next(1 << 20) : 0)  // others' lines between
            }
            fileEnd += UInt64(flow[0].length) + 1
            expected.append(flow)
            _ = table.append(lines: flow)
        }
        table.trimLastBlocks()
        XCTAssertEqual(table.count, expected.count)
        for (position, flow) in expected.enumerated() {
            let lines = table.lines(at: position)
            let ranges = Array(lines)
            let last = flow[flow.count - 1]
            guard ranges.map(\.offset) == flow.map(\.offset), ranges.map(\.length) == flow.map({ Int($0.length) }),
                  lines.span == flow[0].offset..<(last.offset + UInt64(last.length)) else {
                return XCTFail("flow \(position): \(ranges) instead of \(flow)")
            }
        }
    }

    func testACopyReadsTheSameFlowsAndKeepsThemWhileTheOriginalGrows() {
        var table = CapturedFlowLineTable(blockSize: 8, chunkShift: 1)
        let first: [Line] = [(100, 50), (151, 60), (212, 70)]
        let second: [Line] = [(1_000, 5)]
        _ = table.append(lines: first)
        _ = table.append(lines: second)
        let copy = table
        _ = table.append(lines: [(2_000, 9), (2_010, 9)])
        table.trimLastBlocks()
        XCTAssertEqual(copy.count, 2)
        for reader in [copy, table] {
            assertLines(lines(of: reader, at: 0), first, "flow 0")
            assertLines(lines(of: reader, at: 1), second, "flow 1")
        }
        assertLines(lines(of: table, at: 2), [(2_000, 9), (2_010, 9)], "flow 2")
    }

    /// The point of the encoding: 1,000 flows of 8 lines of 100-1,000 bytes, one after
    /// another, in a file of ~40 MB, take ~3 record bytes a line and ~5 a flow (its
    /// place, 8 bytes more, is in a chunk; as arrays of offsets and lengths a line took 12).
    func testATypicalLineTakesThreeBytes() {
        var table = CapturedFlowLineTable()
        var offset: UInt64 = 1 << 25
        for flow in 0..<1_000 {
            var lines: [Line] = []
            for line in 0..<8 {
                let length = UInt32(100 + (flow * 8 + line) * 37 % 900)
                lines.append((offset, length))
                offset += UInt64(length) + 1
            }
            _ = table.append(lines: lines)
        }
        XCTAssertLessThanOrEqual(table.byteCount, 1_000 * (1 + 4 + 8 * 3), "record bytes")
    }
}
