import Foundation
import XCTest
import TaplineFlow
import TaplineWire
@testable import TaplineCapture

final class CaptureBackpressureTests: XCTestCase {
    private var root = ""

    override func setUpWithError() throws {
        root = try CaptureTestSupport.makeTemporaryDirectory()
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: root)
    }

    private static func start(_ writer: CaptureWriter, flow: UInt64 = 1) {
        writer.record(.connectionOpened(connection: ConnectionID(flow), client: "c", listener: "l", time: CaptureTestSupport.t(0)))
        writer.record(.flowStarted(flow: FlowID(flow), connection: ConnectionID(flow), kind: .http, scheme: "http", authority: "h:80", time: CaptureTestSupport.t(1)))
        writer.record(.requestHead(flow: FlowID(flow), head: HTTPRequestHead(method: "PUT", target: "/big"), time: CaptureTestSupport.t(2)))
    }

    func testBackedUpAboveHighWatermarkAndDrainedCallbackFires() throws {
        let writer = try CaptureWriter(root: root, options: CaptureOptions(highWatermark: 64 << 10, lowWatermark: 16 << 10))
        // Held before anything is recorded, so no batch is taken while the backlog builds.
        writer.holdWriterForTesting(true)
        Self.start(writer)
        var total = 0
        var sawBackedUp = false
        for index in 0..<100 {
            writer.record(.requestBody(flow: FlowID(1), bytes: CaptureTestSupport.chunk(seed: 5, index: index, size: 8 << 10)))
            total += 8 << 10
            if writer.isBackedUp {
                sawBackedUp = true
                break
            }
        }
        XCTAssertTrue(sawBackedUp, "64 KiB watermark crossed with the writer held")
        XCTAssertEqual(total, 64 << 10, "backed up as soon as the queue passed the high watermark")
        let drained = expectation(description: "drained")
        writer.whenDrained { drained.fulfill() }
        XCTAssertTrue(writer.isBackedUp)
        writer.holdWriterForTesting(false)
        wait(for: [drained], timeout: 10)
        XCTAssertFalse(writer.isBackedUp)
        let immediate = expectation(description: "called at once when not backed up")
        writer.whenDrained { immediate.fulfill() }
        wait(for: [immediate], timeout: 0.1)

        writer.record(.requestEnd(flow: FlowID(1), trailers: nil, bodyBytes: UInt64(total), time: CaptureTestSupport.t(3)))
        writer.close()
        let flow = try XCTUnwrap(CapturedSession.open(directory: writer.directory).flow(1))
        XCTAssertEqual(flow.requestBody.capturedBytes, UInt64(total), "no body byte may be lost")
        XCTAssertTrue(flow.requestBody.isComplete)
    }

    /// 64 MiB in 64 KiB chunks by a producer that waits while the writer is backed up:
    /// the queue stays within the high watermark plus one chunk, and the bytes read back intact.
    func testLargeBodyStreamsWithBoundedQueue() throws {
        let high = 1 << 20, chunkSize = 64 << 10, chunks = 1024
        let writer = try CaptureWriter(root: root, options: CaptureOptions(highWatermark: high, lowWatermark: 256 << 10))
        Self.start(writer)
        let outputPath = root + "/expected.bin"
        XCTAssertTrue(FileManager.default.createFile(atPath: outputPath, contents: nil))
        let expectedFile = try XCTUnwrap(FileHandle(forWritingAtPath: outputPath))
        let ready = DispatchSemaphore(value: 0)
        var pauses = 0
        for index in 0..<chunks {
            if writer.isBackedUp {
                pauses += 1
                writer.whenDrained { ready.signal() }
                ready.wait()
            }
            var bytes = [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: chunkSize)
            bytes[0] = UInt8(truncatingIfNeeded: index >> 8)
            bytes[chunkSize - 1] = 0xA5
            expectedFile.write(Data(bytes))
            writer.record(.requestBody(flow: FlowID(1), bytes: bytes))
        }
        try expectedFile.close()
        writer.record(.requestEnd(flow: FlowID(1), trailers: nil, bodyBytes: UInt64(chunks * chunkSize), time: CaptureTestSupport.t(3)))
        writer.close()
        XCTAssertGreaterThan(pauses, 0)
        // Body bytes stop one chunk past the watermark; encoded lines add a little: the
        // three start events, and a `body` line for the group being written and for the next.
        XCTAssertLessThanOrEqual(writer.peakQueuedBytes, high + chunkSize + 4 * CaptureWriter.eventCost)

        let flow = try XCTUnwrap(CapturedSession.open(directory: writer.directory).flow(1))
        XCTAssertEqual(flow.requestBody.capturedBytes, UInt64(chunks * chunkSize))
        let readBackPath = root + "/read-back.bin"
        XCTAssertTrue(FileManager.default.createFile(atPath: readBackPath, contents: nil))
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: readBackPath))
        XCTAssertEqual(try flow.requestBody.write(to: handle), UInt64(chunks * chunkSize))
        try handle.close()
        let expectedHash = try CaptureTestSupport.sha256(ofFile: outputPath)
        XCTAssertEqual(expectedHash.count, 64)
        XCTAssertEqual(try CaptureTestSupport.sha256(ofFile: readBackPath), expectedHash)
    }

    func testRecordFromManyThreadsLosesNothing() throws {
        let writer = try CaptureWriter(root: root, options: CaptureOptions(highWatermark: 32 << 10, lowWatermark: 8 << 10))
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            let flow = UInt64(worker + 1)
            Self.start(writer, flow: flow)
            for index in 0..<200 {
                writer.record(.responseBody(flow: FlowID(flow), bytes: CaptureTestSupport.chunk(seed: worker, index: index, size: 100)))
            }
            writer.record(.responseEnd(flow: FlowID(flow), trailers: nil, bodyBytes: 20_000, time: CaptureTestSupport.t(5)))
            writer.record(.flowEnded(flow: FlowID(flow), timings: FlowTimings(), bytesFromClient: 0, bytesFromServer: 0, error: nil, time: CaptureTestSupport.t(6)))
        }
        writer.close()
        let session = try CapturedSession.open(directory: writer.directory)
        XCTAssertEqual(session.warnings, [])
        XCTAssertEqual(session.flows.count, 8)
        for flow in session.flows {
            XCTAssertEqual(flow.responseBody.capturedBytes, 20_000)
            let expected = (0..<200).flatMap { CaptureTestSupport.chunk(seed: Int(flow.id.rawValue) - 1, index: $0, size: 100) }
            XCTAssertEqual(try flow.responseBody.bodyData(limit: 1 << 20), expected)
        }
    }

    func testWriteErrorIsReportedAndDoesNotCrash() throws {
        // /dev/full fails every write with ENOSPC: point the segment at it.
        guard FileManager.default.fileExists(atPath: "/dev/full") else { throw XCTSkip("no /dev/full") }
        let writer = try CaptureWriter(root: root)
        try FileManager.default.createSymbolicLink(atPath: writer.directory + "/bodies/000001.bin", withDestinationPath: "/dev/full")
        // The segment is created with O_EXCL, so creation itself fails: still an error, still no crash.
        Self.start(writer)
        writer.record(.requestBody(flow: FlowID(1), bytes: [1, 2, 3]))
        writer.record(.requestEnd(flow: FlowID(1), trailers: nil, bodyBytes: 3, time: CaptureTestSupport.t(3)))
        writer.close()
        let session = try CapturedSession.open(directory: writer.directory)
        XCTAssertNotNil(session.metadata.writerError)
        XCTAssertTrue(session.warnings.contains { $0.contains("writer") }, "\(session.warnings)")
    }
}
