import Foundation
import Glibc
import XCTest
import TaplineFlow
@testable import TaplineCapture

/// A write that fails mid-session (disk full; here a file-size limit, EFBIG, which
/// hits the large body segment and not the small events.jsonl; or a real full
/// disk, a small tmpfs): the events recorded before it are kept, the error is
/// recorded, and the caller is told.
final class CaptureWriteFailureTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = try CaptureTestSupport.makeDiskDirectory()  // lines are staged only with direct I/O
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs `body` with this process's file-size limit at `bytes` (SIGXFSZ ignored,
    /// so writes past it fail with EFBIG), then restores both.
    private func withFileSizeLimit<T>(_ bytes: Int, _ body: () throws -> T) throws -> T {
        var saved = rlimit()
        XCTAssertEqual(getrlimit(Self.fileSize, &saved), 0)
        let previousHandler = signal(SIGXFSZ, SIG_IGN)
        var limited = saved
        limited.rlim_cur = rlim_t(bytes)
        XCTAssertEqual(setrlimit(Self.fileSize, &limited), 0)
        defer {
            XCTAssertEqual(setrlimit(Self.fileSize, &saved), 0)
            signal(SIGXFSZ, previousHandler)
        }
        return try body()
    }

    private static let fileSize = __rlimit_resource_t(RLIMIT_FSIZE.rawValue)

    /// A session directory in `parent` with its `bodies/`, and the writer of its
    /// files (with a space reserve), events.jsonl written with direct I/O so that
    /// lines are staged.
    private func makeSessionFiles(in parent: String) throws -> (session: String, files: CaptureBatchWriter) {
        let session = parent + "/session"
        XCTAssertEqual(mkdir(session, 0o700), 0)
        XCTAssertEqual(mkdir(session + "/bodies", 0o700), 0)
        let queue = DirectWriteQueue()
        let events = try CaptureFile.create(session + "/events.jsonl", directIO: queue)
        XCTAssertTrue(events.writesDirectly, "\(parent) was chosen for direct I/O: lines must be staged")
        let files = CaptureBatchWriter(directory: session, events: events, directWrites: queue,
                                       reserve: try CaptureSpaceReserve(path: session + "/.reserve"))
        return (session, files)
    }

    /// The lines of earlier groups that events.jsonl still held staged when a body
    /// write failed reach the file, followed by a `writer-error` line.
    func testLinesStagedBeforeAFailedBodyWriteAreKept() throws {
        let (session, files) = try makeSessionFiles(in: directory)
        var encoder = CaptureEventEncoder(options: CaptureOptions(), nextSegmentNumber: { 1 })
        var spare = CaptureWriter.SpareBuffers()

        for flow in 1...3 { CaptureTestSupport.encodeGET(flow: flow, responseBodySize: 100, into: &encoder) }
        files.write([try XCTUnwrap(encoder.takeBatch(spare: &spare))])
        XCTAssertNil(files.failure)
        let stagedSize = (try FileManager.default.attributesOfItem(atPath: session + "/events.jsonl")[.size] as? NSNumber)?.intValue
        XCTAssertEqual(stagedSize, 0, "the first group's lines are only staged (else this test proves nothing)")

        CaptureTestSupport.encodeGET(flow: 4, responseBodySize: 3 << 20, into: &encoder)
        try withFileSizeLimit(512 << 10) {
            files.write([try XCTUnwrap(encoder.takeBatch(spare: &spare))])
        }
        let failure = try XCTUnwrap(files.failure, "a segment past the file-size limit must fail")
        XCTAssertTrue(failure.description.contains("File too large"), failure.description)
        XCTAssertEqual(files.finish(), failure)
        XCTAssertFalse(FileManager.default.fileExists(atPath: session + "/.reserve"), "finish frees the reserve")

        let lines = try CaptureTestSupport.lines(of: session + "/events.jsonl").filter { !$0.isEmpty }
        for flow in 1...3 {
            XCTAssertTrue(lines.contains { $0.contains("\"type\":\"requestHead\"") && $0.contains("\"target\":\"/\(flow)\"") },
                          "flow \(flow), recorded before the failure, is missing: \(lines)")
        }
        XCTAssertFalse(lines.contains { $0.contains("\"target\":\"/4\"") }, "the failed group is not written")
        let last: String = try XCTUnwrap(lines.last)
        XCTAssertTrue(last.contains("\"type\":\"writer-error\"") && last.contains("File too large"), last)
    }

    /// Another loop's segment fails (each loop fills its own): the body bytes that
    /// the first segment still held staged reach its file too, so the kept lines
    /// do not refer to bytes that were never written.
    func testBodiesStagedInAnotherSegmentAreKept() throws {
        let (session, files) = try makeSessionFiles(in: directory)
        var firstLoop = CaptureEventEncoder(options: CaptureOptions(), nextSegmentNumber: { 1 })
        var secondLoop = CaptureEventEncoder(options: CaptureOptions(), nextSegmentNumber: { 2 })
        var spare = CaptureWriter.SpareBuffers()

        for flow in 1...3 { CaptureTestSupport.encodeGET(flow: flow, responseBodySize: 100, into: &firstLoop) }
        files.write([try XCTUnwrap(firstLoop.takeBatch(spare: &spare))])
        let segment = session + "/bodies/000001.bin"
        let stagedSize = (try FileManager.default.attributesOfItem(atPath: segment)[.size] as? NSNumber)?.intValue
        XCTAssertEqual(stagedSize, 0, "the first segment's bytes are only staged (else this test proves nothing)")

        CaptureTestSupport.encodeGET(flow: 4, responseBodySize: 3 << 20, into: &secondLoop)
        try withFileSizeLimit(512 << 10) {
            files.write([try XCTUnwrap(secondLoop.takeBatch(spare: &spare))])
        }
        XCTAssertNotNil(files.failure, "the second segment past the file-size limit must fail")
        _ = files.finish()

        let keptSize = (try FileManager.default.attributesOfItem(atPath: segment)[.size] as? NSNumber)?.intValue
        XCTAssertEqual(keptSize, 300, "the three 100-byte bodies staged in segment 1 must reach its file")
        let lines = try CaptureTestSupport.lines(of: session + "/events.jsonl").filter { !$0.isEmpty }
        XCTAssertTrue(lines.contains { $0.contains("\"target\":\"/3\"") }, "\(lines)")
    }

    /// A real full disk (a small tmpfs: ENOSPC, with room shared by every file)
    /// where the failing segment holds as many staged bytes as the reserve frees
    /// (its failed 1 MiB job and a full 1 MiB buffer): events.jsonl still gets the
    /// lines it held and the `writer-error` line, because they take the freed room
    /// before any segment is salvaged; the failed segment is not rewritten, and
    /// another segment's staged bytes still fit after the events.
    func testEventsGetTheFreedRoomBeforeTheFailedSegmentsStagedBytes() throws {
        let disk = try CaptureTestSupport.mountSmallDisk(size: "3m")
        defer { CaptureTestSupport.unmountSmallDisk(disk) }
        let (session, files) = try makeSessionFiles(in: disk)
        var firstLoop = CaptureEventEncoder(options: CaptureOptions(), nextSegmentNumber: { 1 })
        var secondLoop = CaptureEventEncoder(options: CaptureOptions(), nextSegmentNumber: { 2 })
        var spare = CaptureWriter.SpareBuffers()

        for flow in 1...3 { CaptureTestSupport.encodeGET(flow: flow, responseBodySize: 100, into: &firstLoop) }
        files.write([try XCTUnwrap(firstLoop.takeBatch(spare: &spare))])
        XCTAssertNil(files.failure)
        try fillUp(disk + "/other-data")  // the disk is full but for the reserve

        CaptureTestSupport.encodeGET(flow: 4, responseBodySize: 3 << 20, into: &secondLoop)
        files.write([try XCTUnwrap(secondLoop.takeBatch(spare: &spare))])
        let failure = try XCTUnwrap(files.failure, "segment 2 on a full disk must fail")
        XCTAssertEqual(failure.filePath, CaptureBatchWriter.segmentPath(directory: session, number: 2), failure.description)
        XCTAssertTrue(failure.description.contains("No space left on device"), failure.description)
        XCTAssertEqual(files.finish(), failure)

        let lines = try CaptureTestSupport.lines(of: session + "/events.jsonl").filter { !$0.isEmpty }
        for flow in 1...3 {
            XCTAssertTrue(lines.contains { $0.contains("\"type\":\"requestHead\"") && $0.contains("\"target\":\"/\(flow)\"") },
                          "flow \(flow), held staged before the failure, is missing: \(lines)")
        }
        let last = try XCTUnwrap(lines.last, "events.jsonl is empty: the salvaged segment took the freed room")
        XCTAssertTrue(last.contains("\"type\":\"writer-error\"") && last.contains("No space left on device"), last)
        let firstSegment = CaptureBatchWriter.segmentPath(directory: session, number: 1)
        let keptSize = (try FileManager.default.attributesOfItem(atPath: firstSegment)[.size] as? NSNumber)?.intValue
        XCTAssertEqual(keptSize, 300, "segment 1's staged bodies fit in the room the events left")
    }

    /// Writes zeros to a new file at `path` until the disk is full (ENOSPC).
    private func fillUp(_ path: String) throws {
        let descriptor = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        XCTAssertGreaterThanOrEqual(descriptor, 0)
        defer { Glibc.close(descriptor) }
        let zeros = [UInt8](repeating: 0, count: 64 << 10)
        while zeros.withUnsafeBytes({ Glibc.write(descriptor, $0.baseAddress, $0.count) }) > 0 {}
        XCTAssertEqual(errno, ENOSPC, "filling \(path) stopped before the disk was full")
    }

    /// `close()` still marks the session ended with its `writerError`, and
    /// `writeFailure` tells the caller.
    func testClosedSessionRecordsTheErrorAndTellsTheCaller() throws {
        let writer = try CaptureWriter(root: directory)
        writer.record(.flowStarted(flow: FlowID(1), connection: ConnectionID(1), kind: .http, scheme: "http",
                                   authority: "h:80", time: CaptureTestSupport.t(0)))
        try withFileSizeLimit(512 << 10) {
            for index in 0..<64 {
                writer.record(.responseBody(flow: FlowID(1), bytes: CaptureTestSupport.chunk(seed: 1, index: index, size: 64 << 10)))
            }
            writer.close()
        }
        let failure = try XCTUnwrap(writer.writeFailure)
        XCTAssertTrue(failure.description.contains("File too large"), failure.description)
        let metadata = try SessionMetadata.read(directory: writer.directory)
        XCTAssertNotNil(metadata.ended, "a session that hit a write error is still closed")
        XCTAssertEqual(metadata.writerError, failure.description)
        XCTAssertFalse(FileManager.default.fileExists(atPath: writer.directory + "/.reserve"))
    }

    func testCleanSessionHasNoWriteFailure() throws {
        let writer = try CaptureWriter(root: directory)
        writer.record(.connectionOpened(connection: ConnectionID(1), client: "127.0.0.1:5", listener: "l",
                                        time: CaptureTestSupport.t(0)))
        writer.close()
        XCTAssertNil(writer.writeFailure)
        XCTAssertNil(try SessionMetadata.read(directory: writer.directory).writerError)
        XCTAssertFalse(FileManager.default.fileExists(atPath: writer.directory + "/.reserve"))
    }
}
