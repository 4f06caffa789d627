import Foundation
import Glibc
import XCTest
@testable import TaplineCapture

/// Capture files do not pile up in the page cache: windows written earlier are on
/// disk and out of memory, and the file still holds every byte.
final class WrittenPageReleaseTests: XCTestCase {
    func testEarlierWindowsAreWrittenBackAndDroppedWithEveryByteKept() throws {
        let directory = NSTemporaryDirectory() + "tapline-pages-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        XCTAssertEqual(mkdir(directory, 0o700), 0)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let fileSystem = fileSystemType(of: directory)
        if ["tmpfs", "ramfs"].contains(fileSystem) {  // the pages are the file: nothing to drop
            throw XCTSkip("\(directory) is on \(fileSystem), where file pages cannot leave memory")
        }

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
        let resident = try residentPages(of: path, length: expected.count)
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        let droppedPages = 4 * window / pageSize
        XCTAssertEqual(resident[..<droppedPages].filter { $0 }.count, 0,
                       "pages of windows already written back are still in the page cache")
        try file.sync()
        file.close()
        XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: path))), expected)
    }

    /// The type of the file system `path` is on (longest matching mount point in /proc/mounts).
    private func fileSystemType(of path: String) -> String {
        let mounts = (try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? ""
        var best = (point: "", type: "unknown")
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 3 else { continue }
            let point = String(fields[1])
            let prefix = point.hasSuffix("/") ? point : point + "/"
            if (path == point || path.hasPrefix(prefix)) && point.count > best.point.count {
                best = (point, String(fields[2]))
            }
        }
        return best.type
    }

    /// Which pages of the first `length` bytes of `path` are in the page cache (mincore).
    private func residentPages(of path: String, length: Int) throws -> [Bool] {
        let fd = open(path, O_RDONLY)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        guard let mapping = mmap(nil, length, PROT_READ, MAP_SHARED, fd, 0), mapping != MAP_FAILED else {
            throw XCTSkip("mmap failed: \(String(cString: strerror(errno)))")
        }
        defer { munmap(mapping, length) }
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        var vector = [UInt8](repeating: 0, count: (length + pageSize - 1) / pageSize)
        XCTAssertEqual(mincore(mapping, length, &vector), 0)
        return vector.map { $0 & 1 != 0 }
    }
}
