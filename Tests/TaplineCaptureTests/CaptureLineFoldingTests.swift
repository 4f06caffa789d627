import Foundation
import XCTest
import TaplineFlow
import TaplineWire
@testable import TaplineCapture

/// Format v2 folds two events into the line before them: a flow's HTTP/2 stream id
/// into its `flowStarted`, and the end of a request with no body or trailers into its
/// `requestHead`. Readers get the same flow either way, and from v1's separate lines.
final class CaptureLineFoldingTests: XCTestCase {
    private var root = ""

    override func setUpWithError() throws {
        root = try CaptureTestSupport.makeTemporaryDirectory()
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: root)
    }

    private typealias Recording = (any FlowEventSink) -> Void

    /// Records through one loop's sink, closes; returns the event lines and the session read back.
    private func write(_ record: Recording) throws -> (lines: [[String: Any]], session: CapturedSession) {
        let writer = try CaptureWriter(root: root)
        let sink = writer.makeSink()
        record(sink)
        sink.flush()
        writer.close()
        let lines = try CaptureTestSupport.lines(of: writer.directory + "/events.jsonl").filter { !$0.isEmpty }.map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        return (lines, try CapturedSession.open(directory: writer.directory))
    }

    private static let flow = FlowID(1)
    private static let t = CaptureTestSupport.t

    private static func start(_ sink: any FlowEventSink, stream: UInt32? = 3, time: Int64 = 1) {
        sink.record(.connectionOpened(connection: ConnectionID(1), client: "127.0.0.1:5000", listener: "l", time: t(0)))
        sink.record(.flowStarted(flow: flow, connection: ConnectionID(1), kind: .http, scheme: "http",
                                 authority: "h:80", time: t(time)))
        if let stream { sink.record(.http2Stream(flow: flow, streamID: stream, time: t(time))) }
    }

    private static func finish(_ sink: any FlowEventSink) {
        sink.record(.responseHead(flow: flow, head: HTTPResponseHead(version: .http2, status: 204), time: t(5)))
        sink.record(.responseEnd(flow: flow, trailers: nil, bodyBytes: 0, time: t(6)))
        sink.record(.flowEnded(flow: flow, timings: FlowTimings(), bytesFromClient: 0, bytesFromServer: 0,
                               error: nil, time: t(6)))
    }

    /// An HTTP/2 GET on stream 3 whose request ends with its head, as the proxy records it.
    private static func recordBodylessGet(_ sink: any FlowEventSink) {
        start(sink)
        sink.record(.requestHead(flow: flow, head: HTTPRequestHead(method: "GET", target: "/a", version: .http2), time: t(1)))
        sink.record(.requestEnd(flow: flow, trailers: nil, bodyBytes: 0, time: t(1)))
        finish(sink)
    }

    private static func types(_ lines: [[String: Any]]) -> [String] { lines.compactMap { $0["type"] as? String } }

    func test_a_bodyless_http2_request_takes_two_lines_fewer() throws {
        let (lines, session) = try write(Self.recordBodylessGet)
        XCTAssertEqual(Self.types(lines), ["connectionOpened", "flowStarted", "requestHead", "responseHead",
                                           "responseEnd", "flowEnded"])
        XCTAssertEqual(lines[1]["stream"] as? Int, 3)
        XCTAssertEqual(lines[2]["ended"] as? Bool, true)
        XCTAssertNil(lines[3]["reason"], "an empty reason is left out")

        let flow = try XCTUnwrap(session.flow(1))
        XCTAssertEqual(flow.http2StreamID, 3)
        XCTAssertTrue(flow.requestBody.isComplete)
        XCTAssertEqual(flow.requestBody.bodyBytes, 0)
        XCTAssertEqual(flow.response?.reason, "")
        XCTAssertEqual(session.metadata.stats?.events, 6, "stats count lines, not events")
        XCTAssertTrue(session.warnings.isEmpty, "\(session.warnings)")
    }

    func test_request_ends_that_say_more_keep_their_own_line() throws {
        // A body, trailers, or a later time: the end has something the head line cannot say.
        let cases: [(String, Recording)] = [
            ("body", { sink in
                sink.record(.requestBody(flow: Self.flow, bytes: [1, 2, 3]))
                sink.record(.requestEnd(flow: Self.flow, trailers: nil, bodyBytes: 3, time: Self.t(1)))
            }),
            ("trailers", { sink in
                sink.record(.requestEnd(flow: Self.flow, trailers: HTTPHeaders([("x-sum", "1")]), bodyBytes: 0,
                                        time: Self.t(1)))
            }),
            ("later", { sink in
                sink.record(.requestEnd(flow: Self.flow, trailers: nil, bodyBytes: 0, time: Self.t(2)))
            }),
        ]
        for (name, end) in cases {
            let (lines, session) = try write { sink in
                Self.start(sink, stream: nil)
                sink.record(.requestHead(flow: Self.flow, head: HTTPRequestHead(method: "POST", target: "/"),
                                         time: Self.t(1)))
                end(sink)
                Self.finish(sink)
            }
            XCTAssertTrue(Self.types(lines).contains("requestEnd"), name)
            XCTAssertNil(lines.first { $0["type"] as? String == "requestHead" }?["ended"], name)
            let flow = try XCTUnwrap(session.flow(1))
            XCTAssertTrue(flow.requestBody.isComplete, name)
            XCTAssertNil(flow.http2StreamID, name)
            XCTAssertEqual(flow.requestBody.bodyBytes, name == "body" ? 3 : 0, name)
            XCTAssertEqual(flow.requestTrailers?.count, name == "trailers" ? 1 : nil, name)
        }
    }

    func test_a_line_already_handed_to_the_writer_is_not_extended() throws {
        let (lines, session) = try write { sink in
            Self.start(sink, stream: nil)
            sink.flush()  // the loop's iteration ends between flowStarted and http2Stream
            sink.record(.http2Stream(flow: Self.flow, streamID: 5, time: Self.t(1)))
            sink.record(.requestHead(flow: Self.flow, head: HTTPRequestHead(method: "GET", target: "/"), time: Self.t(1)))
            sink.recordBody(flow: Self.flow, isRequest: true, bytes: [][...], time: Self.t(1))
            sink.flush()
            sink.record(.requestEnd(flow: Self.flow, trailers: nil, bodyBytes: 0, time: Self.t(1)))
            Self.finish(sink)
        }
        XCTAssertEqual(Array(Self.types(lines).prefix(5)),
                       ["connectionOpened", "flowStarted", "http2Stream", "requestHead", "requestEnd"])
        let flow = try XCTUnwrap(session.flow(1))
        XCTAssertEqual(flow.http2StreamID, 5)
        XCTAssertTrue(flow.requestBody.isComplete)
    }

    func test_version_1_lines_read_as_the_same_flow() throws {
        let (_, folded) = try write(Self.recordBodylessGet)
        let directory = folded.directory
        var lines = try CaptureTestSupport.lines(of: directory + "/events.jsonl")
        // Unfold by hand into what version 1 wrote.
        let started = try XCTUnwrap(lines.firstIndex { $0.contains(#""type":"flowStarted""#) })
        lines[started] = lines[started].replacingOccurrences(of: #","stream":3"#, with: "")
        lines.insert(#"{"t":1790000000000001,"type":"http2Stream","flow":1,"stream":3}"#, at: started + 1)
        let head = try XCTUnwrap(lines.firstIndex { $0.contains(#""type":"requestHead""#) })
        lines[head] = lines[head].replacingOccurrences(of: #","ended":true"#, with: "")
        lines.insert(#"{"t":1790000000000001,"type":"requestEnd","flow":1,"bodyBytes":0,"capturedBytes":0,"truncated":false}"#,
                     at: head + 1)
        try CaptureTestSupport.writeLines(lines, to: directory + "/events.jsonl")
        let metadataPath = directory + "/session.json"
        let metadata = try String(contentsOfFile: metadataPath, encoding: .utf8)
        try metadata.replacingOccurrences(of: #""version":2"#, with: #""version":1"#)
            .write(toFile: metadataPath, atomically: false, encoding: .utf8)

        let unfolded = try CapturedSession.open(directory: directory)
        XCTAssertEqual(unfolded.metadata.version, 1)
        XCTAssertTrue(unfolded.warnings.isEmpty, "\(unfolded.warnings)")
        let flow = try XCTUnwrap(unfolded.flow(1))
        let reference = try XCTUnwrap(folded.flow(1))
        XCTAssertEqual(flow.http2StreamID, reference.http2StreamID)
        XCTAssertEqual(flow.requestBody.isComplete, reference.requestBody.isComplete)
        XCTAssertEqual(flow.requestBody.bodyBytes, reference.requestBody.bodyBytes)
        XCTAssertEqual(flow.request?.target, "/a")
    }
}
