import Foundation
import Glibc
import XCTest
import TaplineFlow
import TaplineWire
@testable import TaplineCapture

/// Capture files written with direct I/O: the file only ever holds a prefix of
/// what was appended, all of it once made visible, and the page cache stays out
/// of the way. They run in a directory on a disk that does direct I/O
/// (`CaptureTestSupport.makeDiskDirectory`: skipped without one, failed in CI).
final class DirectIOAppenderTests: XCTestCase {
    private var directory = ""
    private var queue: DirectWriteQueue?

    override func setUpWithError() throws {
        directory = try CaptureTestSupport.makeDiskDirectory()
        queue = DirectWriteQueue()
    }

    override func tearDownWithError() throws {
        queue?.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A new empty file and its descriptor (closed by the test).
    private func makeFile(_ name: String) -> (path: String, descriptor: Int32) {
        let path = directory + "/" + name
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        XCTAssertGreaterThanOrEqual(descriptor, 0, String(cString: strerror(errno)))
        return (path, descriptor)
    }

    private func contents(_ path: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: path))
    }

    /// Appends of every size (1 byte to several staging buffers) with
    /// `makeVisible` now and then: after every step the file is a prefix of what
    /// was appended, and after `makeVisible` all of it.
    private func checkPrefixesAndVisibility(alignment: Int) throws -> DirectIOAppender {
        let (path, descriptor) = makeFile("appended-\(alignment).bin")
        defer { close(descriptor) }
        let appender = try XCTUnwrap(DirectIOAppender(path: path, descriptor: descriptor, queue: queue!,
                                                      capacity: 16 * 4096, alignment: alignment),
                                     "\(directory) was chosen for direct I/O, yet O_DIRECT is refused")
        let pattern = Data((0..<(256 << 10)).map { _ in UInt8.random(in: 0...255) })
        let sizes = [1, 7, 4095, 4096, 4097, 20_000, 70_000, 200_000]
        var expected = Data()
        for step in 0..<120 {
            let start = Int.random(in: 0..<(pattern.count - 200_000))
            let bytes = pattern[start..<start + sizes[step % sizes.count]]
            try bytes.withUnsafeBytes { raw in
                try Result { () throws(CaptureError) in try appender.append(raw) }.get()
            }
            expected += bytes
            let onDisk = try contents(path)
            XCTAssertLessThanOrEqual(onDisk.count, expected.count)
            XCTAssertTrue(onDisk == expected.prefix(onDisk.count), "step \(step): the file is not a prefix of what was appended")
            if !appender.hasInvisibleBytes { XCTAssertEqual(onDisk.count, expected.count, "step \(step)") }
            if step % 7 == 3 {
                try Result { () throws(CaptureError) in try appender.makeVisible() }.get()
                XCTAssertFalse(appender.hasInvisibleBytes)
                XCTAssertTrue(try contents(path) == expected, "step \(step): made visible, yet bytes are missing")
            }
        }
        try Result { () throws(CaptureError) in try appender.sync() }.get()
        XCTAssertTrue(try contents(path) == expected)
        return appender
    }

    func testFileIsAlwaysAPrefixAndWholeOnceVisible() throws {
        let appender = try checkPrefixesAndVisibility(alignment: DirectIOAppender.defaultAlignment)
        XCTAssertTrue(appender.writesDirectly)
    }

    /// A device that refuses the writes (here: blocks of one byte, from unaligned
    /// memory) gets the same bytes through the page cache instead.
    func testRefusedDirectWritesFallBackWithEveryByteKept() throws {
        let appender = try checkPrefixesAndVisibility(alignment: 1)
        if ["ext4", "xfs", "btrfs"].contains(CaptureTestSupport.fileSystemType(of: directory)) {
            XCTAssertFalse(appender.writesDirectly, "unaligned direct writes are refused there")
        }
    }

    /// What the capture writes with direct I/O is on disk, not in the page cache.
    func testWholeBlocksBypassThePageCache() throws {
        let path = directory + "/000001.bin"
        let file = try CaptureFile.create(path, directIO: queue)
        XCTAssertTrue(file.writesDirectly, "\(directory) was chosen for direct I/O")
        let bytes = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 29) }
        try bytes.withUnsafeBytes { raw in
            try Result { () throws(CaptureError) in try file.writeAll(raw) }.get()
        }
        let written = 2 << 20  // two full staging buffers went out; the third is staged
        XCTAssertTrue(file.hasInvisibleBytes)
        try Result { () throws(CaptureError) in try queue!.wait(for: 2) }.get()  // the two jobs so far are written
        let resident = try CaptureTestSupport.residentPages(of: path, length: written)
        XCTAssertEqual(resident.filter { $0 }.count, 0, "direct writes left pages in the page cache")
        try file.sync()
        file.close()
        XCTAssertTrue(try contents(path) == Data(bytes))
    }

    /// A file that leaves direct I/O in the middle (bulk bytes) keeps every byte
    /// in order: staged ones first, then appends through the page cache.
    func testLeavingDirectIOKeepsEveryByteInOrder() throws {
        let path = directory + "/000002.bin"
        let file = try CaptureFile.create(path, directIO: queue)
        XCTAssertTrue(file.writesDirectly, "\(directory) was chosen for direct I/O")
        var expected = Data()
        func append(_ count: Int, seed: Int) throws {
            let bytes = CaptureTestSupport.chunk(seed: seed, index: 0, size: count)
            try bytes.withUnsafeBytes { raw in
                var gather = CaptureFile.Gather()
                gather.append(UnsafeRawBufferPointer(rebasing: raw[..<(count / 2)]))
                gather.append(UnsafeRawBufferPointer(rebasing: raw[(count / 2)...]))
                try Result { () throws(CaptureError) in try file.writeAll(gather) }.get()
            }
            expected += bytes
        }
        try append(1_500_000, seed: 1)  // a full staging buffer out, a partial block staged
        try append(333, seed: 2)
        try Result { () throws(CaptureError) in try file.leaveDirectIO() }.get()
        XCTAssertFalse(file.writesDirectly)
        XCTAssertFalse(file.hasInvisibleBytes)
        XCTAssertTrue(try contents(path) == expected, "staged bytes were not all written on leaving")
        try append(700_001, seed: 3)
        try append(5, seed: 4)
        try file.sync()
        file.close()
        XCTAssertTrue(try contents(path) == expected)
    }

    /// A live session shows its events without more traffic and without closing:
    /// staged lines become visible within `visibilityDelay`.
    func testStagedLinesBecomeVisibleWhileTheWriterIsIdle() throws {
        let writer = try CaptureWriter(root: directory)
        defer { writer.close() }
        writer.record(.connectionOpened(connection: ConnectionID(1), client: "127.0.0.1:5", listener: "l",
                                        time: CaptureTestSupport.t(0)))
        let path = writer.directory + "/events.jsonl"
        let deadline = Date().addingTimeInterval(10)
        var text = ""
        while Date() < deadline {
            text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            if text.contains("connectionOpened") { break }
            usleep(5_000)  // polling a file: there is no port to wait on
        }
        XCTAssertTrue(text.contains("\"type\":\"connectionOpened\""), "events.jsonl still holds: \(text)")
        XCTAssertTrue(text.hasSuffix("\n"), "only whole lines were made visible")
    }

    /// Whenever lines reach events.jsonl, the body bytes they point at are already
    /// in their segment: batches written one by one (as the writer thread does,
    /// without its periodic `makeVisible`), the files checked after each.
    func testLinesNeverReachTheFileBeforeTheirBodyBytes() throws {
        let session = directory + "/session"
        XCTAssertEqual(mkdir(session, 0o700), 0)
        XCTAssertEqual(mkdir(session + "/bodies", 0o700), 0)
        let events = try CaptureFile.create(session + "/events.jsonl", directIO: queue)
        XCTAssertTrue(events.writesDirectly, "\(directory) was chosen for direct I/O: lines must be staged")
        let files = CaptureBatchWriter(directory: session, events: events, directWrites: queue!)
        queue = nil  // files.finish() stops it
        var encoder = CaptureEventEncoder(options: CaptureOptions(), nextSegmentNumber: { 1 })
        var eventsSize = 0
        var checkedWriteOuts = 0
        for flow in 1...4_000 {
            CaptureTestSupport.encodeGET(flow: flow, responseBodySize: 3_000, into: &encoder)
            encoder.encode(.responseEnd(flow: FlowID(UInt64(flow)), trailers: nil, bodyBytes: 3_000,
                                        time: CaptureTestSupport.t(Int64(flow))))
            guard flow % 5 == 0 else { continue }
            var spare = CaptureWriter.SpareBuffers()
            guard let batch = encoder.takeBatch(spare: &spare) else { continue }
            files.write([batch])
            XCTAssertNil(files.failure)

            // Lines went out: each body line in the file must fit in the segment.
            let size = (try? FileManager.default.attributesOfItem(atPath: session + "/events.jsonl")[.size] as? NSNumber)?.intValue ?? 0
            guard size > eventsSize else { continue }
            eventsSize = size
            checkedWriteOuts += 1
            let segmentSize = (try? FileManager.default.attributesOfItem(
                atPath: CaptureBatchWriter.segmentPath(directory: session, number: 1))[.size] as? NSNumber)?.intValue ?? 0
            let text = try String(contentsOfFile: session + "/events.jsonl", encoding: .utf8)
            for line in text.split(separator: "\n").suffix(40) where line.contains("\"type\":\"body\"") {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      let offset = object["off"] as? Int, let length = object["len"] as? Int
                else { continue }  // the torn last line of a block
                XCTAssertLessThanOrEqual(offset + length, segmentSize,
                                         "flow \(flow): a line reached events.jsonl before its body bytes")
            }
        }
        XCTAssertGreaterThan(checkedWriteOuts, 0, "events.jsonl was never written out")
        XCTAssertNil(files.finish())
        // Everything is there once finished: each flow's body where its line says.
        let segment = try contents(CaptureBatchWriter.segmentPath(directory: session, number: 1))
        let bodyLines = try String(contentsOfFile: session + "/events.jsonl", encoding: .utf8)
            .split(separator: "\n").filter { $0.contains("\"type\":\"body\"") }
        XCTAssertEqual(bodyLines.count, 4_000)
        XCTAssertEqual(segment.count, 4_000 * 3_000)
        for line in bodyLines.enumerated().filter({ $0.offset % 997 == 0 }).map(\.element) {
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let flow = try XCTUnwrap(object["flow"] as? Int), offset = try XCTUnwrap(object["off"] as? Int)
            XCTAssertTrue(segment[offset..<offset + 3_000] == Data(CaptureTestSupport.chunk(seed: flow, index: 0, size: 3_000)))
        }
    }
}
