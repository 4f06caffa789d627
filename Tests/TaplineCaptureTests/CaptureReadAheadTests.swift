import Foundation
import XCTest
@testable import TaplineCapture

/// `CaptureReadAhead`: whatever the order of the reads and however they fall on its
/// windows, a read gives the file's bytes at that place, as a `pread` of the file then
/// would; a file that grew since a window was read is read again past that window's end.
final class CaptureReadAheadTests: XCTestCase {
    private func makeFile(_ bytes: [UInt8]) throws -> String {
        let root = try CaptureTestSupport.makeTemporaryDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(atPath: root) }
        let path = root + "/file.bin"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        return path
    }

    func testInterleavedStreamsOfSmallReadsGiveTheFilesBytes() throws {
        let size = 300_000
        let content = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
        let file = try CaptureFile.openForReading(try makeFile(content))
        defer { file.close() }
        var readAhead = CaptureReadAhead()
        // More streams than windows, each reading on from where it was: windows are
        // replaced, reads straddle a window's end, some reads are larger than a window.
        let streams = CaptureReadAhead.windowCount + 8
        var cursors = (0..<streams).map { $0 * (size / streams) }
        var generator = SystemRandomNumberGenerator()
        for round in 0..<400 {
            for stream in 0..<streams {
                let count = round % 97 == 0 ? CaptureReadAhead.windowBytes + 100 : Int.random(in: 1...1_500, using: &generator)
                let offset = cursors[stream]
                let got = try readAhead.read(file, at: UInt64(offset), count: count)
                let end = min(size, offset + count)
                XCTAssertEqual(Array(got), Array(content[min(offset, size)..<end]), "stream \(stream), offset \(offset), count \(count)")
                cursors[stream] = end >= size ? stream : end
            }
        }
        XCTAssertEqual(try readAhead.read(file, at: UInt64(size), count: 10), [], "nothing past the end")
        XCTAssertEqual(Array(try readAhead.read(file, at: UInt64(size - 3), count: 10)), Array(content[(size - 3)...]),
                       "fewer at the end")
    }

    /// Windows are found first by the stretch of the file a read falls in, whatever the
    /// file: two files read at the same offsets through one read-ahead each give their
    /// own bytes.
    func testTwoFilesReadAtTheSameOffsetsGiveTheirOwnBytes() throws {
        let size = 40_000
        let first = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let second = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 1) }
        let firstFile = try CaptureFile.openForReading(try makeFile(first))
        let secondFile = try CaptureFile.openForReading(try makeFile(second))
        defer {
            firstFile.close()
            secondFile.close()
        }
        var readAhead = CaptureReadAhead()
        for offset in stride(from: 0, to: size - 700, by: 611) {
            for (file, content) in [(firstFile, first), (secondFile, second), (firstFile, first)] {
                let got = try readAhead.read(file, at: UInt64(offset), count: 700)
                XCTAssertEqual(Array(got), Array(content[offset..<(offset + 700)]), "offset \(offset)")
            }
        }
    }

    func testBytesAppendedAfterAWindowWasReadAreRead() throws {
        let path = try makeFile(Array(repeating: 1, count: 100))
        let file = try CaptureFile.openForReading(path)
        defer { file.close() }
        var readAhead = CaptureReadAhead()
        XCTAssertEqual(Array(try readAhead.read(file, at: 90, count: 20)), Array(repeating: 1, count: 10))
        let appender = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        appender.seekToEndOfFile()
        appender.write(Data(repeating: 2, count: 50))
        appender.closeFile()
        XCTAssertEqual(Array(try readAhead.read(file, at: 95, count: 10)), Array(repeating: 1, count: 5) + Array(repeating: 2, count: 5))
        XCTAssertEqual(Array(try readAhead.read(file, at: 140, count: 20)), Array(repeating: 2, count: 10))
    }
}
