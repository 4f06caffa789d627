import Foundation
import Glibc
import XCTest
@testable import TaplineCapture

/// Capture files do not pile up in the page cache: windows written earlier are on
/// disk and out of memory, and the file still holds every byte.
final class WrittenPageReleaseTests: XCTestCase {
    func testEarlierWindowsAreWrittenBackAndDroppedWithEveryByteKept() throws {
        // On a disk (on tmpfs the pages are the file: nothing to drop); skipped without one, failed in CI.
        let directory = try CaptureTestSupport.makeDiskDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }

        let window = 256 << 10
        let path = directory + "/000001.bin"
        let file = try CaptureFile.create(path, pageReleaseWindow: UInt64(window))
        var expected: [UInt8] = []
        for chunk in 0..<20 {  // 20 x 64 KiB = 5 windows, in writes of both kinds
            let bytes = (0..<(64 << 10)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ chunk) }
            expected += bytes
            if chunk % 2 == 0 {
                try file.writeAll(bytes)
            } else {
                try bytes.withUnsafeBytes { raw in
                    var gather = CaptureFile.Gather()
                    gather.append(UnsafeRawBufferPointer(rebasing: raw[..<1000]))
                    gather.append(UnsafeRawBufferPointer(rebasing: raw[1000...]))
                    try Result { () throws(CaptureError) in try file.writeAll(gather) }.get()
                }
            }
        }

        // Windows 1-4 were dropped once windows 2-5 had been started.
        let resident = try CaptureTestSupport.residentPages(of: path, length: expected.count)
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        let droppedPages = 4 * window / pageSize
        XCTAssertEqual(resident[..<droppedPages].filter { $0 }.count, 0,
                       "pages of windows already written back are still in the page cache")
        try file.sync()
        file.close()
        XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: path))), expected)
    }
}
