import Foundation
import XCTest
import TaplineFlow
import TaplineWire
@testable import TaplineCapture

/// The proxy's capture path: one sink per event loop, encoding on that loop and
/// handing the writer batches.
final class CaptureEventStreamTests: XCTestCase {
    private var root = ""

    override func setUpWithError() throws {
        root = try CaptureTestSupport.makeTemporaryDirectory()
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Records one flow with a `chunks`-chunk response body through `sink` (as events
    /// and through `recordBody`, alternately), flushing
    /// every `flushEvery` chunks as a loop would at the end of an iteration.
    private static func recordFlow(_ flow: UInt64, into sink: any FlowEventSink, chunks: Int, size: Int, flushEvery: Int) {
        let id = FlowID(flow)
        sink.record(.connectionOpened(connection: ConnectionID(flow), client: "127.0.0.1:\(flow)", listener: "l",
                                      time: CaptureTestSupport.t(0)))
        sink.record(.flowStarted(flow: id, connection: ConnectionID(flow), kind: .http, scheme: "http",
                                 authority: "h:80", time: CaptureTestSupport.t(1)))
        sink.record(.requestHead(flow: id, head: HTTPRequestHead(method: "GET", target: "/\(flow)"), time: CaptureTestSupport.t(2)))
        sink.record(.requestEnd(flow: id, trailers: nil, bodyBytes: 0, time: CaptureTestSupport.t(3)))
        sink.record(.responseHead(flow: id, head: HTTPResponseHead(status: 200), time: CaptureTestSupport.t(4)))
        for index in 0..<chunks {
            let bytes = CaptureTestSupport.chunk(seed: Int(flow), index: index, size: size)
            // The proxy's two ways of recording a body chunk, taking turns.
            if index % 2 == 0 {
                sink.record(.responseBody(flow: id, bytes: bytes))
            } else {
                sink.recordBody(flow: id, isRequest: false, bytes: bytes[...], time: .now())
            }
            if index % flushEvery == flushEvery - 1 { sink.flush() }
        }
        sink.record(.responseEnd(flow: id, trailers: nil, bodyBytes: UInt64(chunks * size), time: CaptureTestSupport.t(5)))
        sink.record(.flowEnded(flow: id, timings: FlowTimings(), bytesFromClient: 0, bytesFromServer: UInt64(chunks * size),
                               error: nil, time: CaptureTestSupport.t(6)))
        sink.flush()
    }

    /// `threads` loops at once, each with its own sink, recording `flowsPerThread`
    /// flows (ids from 1, by thread) and flushing every `flushEvery + thread` chunks.
    private static func recordFlowsOnThreads(_ threads: Int, flowsPerThread: Int, into writer: CaptureWriter,
                                             chunks: Int, size: Int, flushEvery: Int) {
        DispatchQueue.concurrentPerform(iterations: threads) { worker in
            let sink = writer.makeSink()
            for n in 0..<flowsPerThread {
                recordFlow(UInt64(worker * flowsPerThread + n + 1), into: sink, chunks: chunks, size: size,
                           flushEvery: flushEvery + worker)
            }
        }
    }

    func testLoopsOnSeveralThreadsEachFillTheirOwnSegments() throws {
        let writer = try CaptureWriter(root: root, options: CaptureOptions(segmentLimit: 20_000))
        let threads = 4, flowsPerThread = 3, chunks = 40, size = 997
        Self.recordFlowsOnThreads(threads, flowsPerThread: flowsPerThread, into: writer, chunks: chunks, size: size,
                                  flushEvery: 3)
        writer.close()

        let session = try CapturedSession.open(directory: writer.directory)
        XCTAssertEqual(session.warnings, [])
        XCTAssertEqual(session.flows.count, threads * flowsPerThread)
        XCTAssertEqual(session.metadata.stats?.flows, UInt64(threads * flowsPerThread))
        XCTAssertEqual(session.metadata.stats?.bodyBytesStored, UInt64(threads * flowsPerThread * chunks * size))
        var segmentsByThread: [Set<Int>] = Array(repeating: [], count: threads)
        for flow in session.flows {
            let seed = Int(flow.id.rawValue)
            let expected = (0..<chunks).flatMap { CaptureTestSupport.chunk(seed: seed, index: $0, size: size) }
            XCTAssertEqual(try flow.responseBody.bodyData(limit: 1 << 20), expected, "flow \(seed)")
            XCTAssertFalse(flow.responseBody.truncated)
            segmentsByThread[(seed - 1) / flowsPerThread].formUnion(flow.responseBody.extents.map(\.segment))
        }
        for a in 0..<threads {
            XCTAssertGreaterThan(segmentsByThread[a].count, 1, "each loop rolled over to new segments")
            for b in (a + 1)..<threads {
                XCTAssertTrue(segmentsByThread[a].isDisjoint(with: segmentsByThread[b]), "loops \(a) and \(b) share a segment")
            }
        }
        for extent in session.flows.flatMap(\.responseBody.extents) {
            XCTAssertLessThanOrEqual(extent.offset + extent.length, 20_000 + UInt64(size), "an extent stays in its segment")
        }
    }

    /// The writer held while four loops record, so it takes all their batches as one
    /// group: runs for several segments interleave, segments fill up and roll over
    /// inside the group, and each segment's runs still land where the lines say.
    func testOneGroupWithInterleavedBatchesOfSeveralLoops() throws {
        let writer = try CaptureWriter(root: root, options: CaptureOptions(segmentLimit: 30_000))
        writer.holdWriterForTesting(true)
        let threads = 4, flowsPerThread = 2, chunks = 25, size = 1_013
        Self.recordFlowsOnThreads(threads, flowsPerThread: flowsPerThread, into: writer, chunks: chunks, size: size,
                                  flushEvery: 2)
        writer.holdWriterForTesting(false)
        writer.close()

        let session = try CapturedSession.open(directory: writer.directory)
        XCTAssertEqual(session.warnings, [])
        XCTAssertEqual(session.flows.count, threads * flowsPerThread)
        for flow in session.flows {
            let seed = Int(flow.id.rawValue)
            let expected = (0..<chunks).flatMap { CaptureTestSupport.chunk(seed: seed, index: $0, size: size) }
            XCTAssertEqual(try flow.responseBody.bodyData(limit: 1 << 20), expected, "flow \(seed)")
        }
        let segments = Set(session.flows.flatMap(\.responseBody.extents).map(\.segment))
        XCTAssertGreaterThan(segments.count, threads, "loops rolled over to new segments within the group")
    }

    func testMaxBodyCaptureIsAppliedPerFlowOnTheStream() throws {
        let writer = try CaptureWriter(root: root, options: CaptureOptions(maxBodyBytes: 2_500))
        let sink = writer.makeSink()
        Self.recordFlow(1, into: sink, chunks: 5, size: 1_000, flushEvery: 2)
        Self.recordFlow(2, into: sink, chunks: 2, size: 1_000, flushEvery: 1)
        writer.close()
        let session = try CapturedSession.open(directory: writer.directory)
        let truncated = try XCTUnwrap(session.flow(1))
        XCTAssertEqual(truncated.responseBody.capturedBytes, 2_500)
        XCTAssertEqual(truncated.responseBody.bodyBytes, 5_000)
        XCTAssertTrue(truncated.responseBody.truncated)
        let whole = try XCTUnwrap(session.flow(2))
        XCTAssertEqual(whole.responseBody.capturedBytes, 2_000)
        XCTAssertFalse(whole.responseBody.truncated)
    }

    func testEventsFlushedAfterCloseAreIgnored() throws {
        let writer = try CaptureWriter(root: root)
        let sink = writer.makeSink()
        Self.recordFlow(1, into: sink, chunks: 1, size: 10, flushEvery: 1)
        writer.close()
        Self.recordFlow(2, into: sink, chunks: 1, size: 10, flushEvery: 1)
        let session = try CapturedSession.open(directory: writer.directory)
        XCTAssertEqual(session.flows.map(\.id.rawValue), [1])
        XCTAssertTrue(session.metadata.isClosed)
    }
}
