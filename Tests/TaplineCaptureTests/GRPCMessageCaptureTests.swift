import Foundation
import XCTest
import TaplineFlow
import TaplineWire
@testable import TaplineCapture

/// The per-message capture of gRPC flows (`grpcMessage` lines, docs/capture-format.md):
/// the recorder's entries do not depend on how the body was cut, a message cut by
/// `--max-body-capture` keeps its wire length, a malformed or cut-off frame is an entry
/// of its own, other flows are untouched, and the lines read back to the same entries.
final class GRPCMessageCaptureTests: XCTestCase {
    private var root = ""

    override func setUpWithError() throws {
        root = try CaptureTestSupport.makeTemporaryDirectory()
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: root)
    }

    private static let flow = FlowID(1)
    private static let t = CaptureTestSupport.t

    private static func frame(_ payload: [UInt8], flags: UInt8 = 0) -> [UInt8] {
        GRPCMessageFrame.encoded(payload, flags: flags)
    }

    /// Three messages (a 0-length one, a compressed one) in one direction's body.
    private static let body = frame([0x0A, 0x01, 0x61]) + frame([]) + frame(Array(repeating: 0x42, count: 300), flags: 1)

    /// The recorder's entries for `chunks` of one request body, all at one time.
    private func entries(_ chunks: [ArraySlice<UInt8>], framing: GRPCFraming = .grpc, finish: Bool = true) -> [CapturedGRPCMessage] {
        var recorder = GRPCMessageRecorder()
        recorder.track(Self.flow, framing: framing)
        var entries: [CapturedGRPCMessage] = []
        var stored: UInt64 = 0
        for chunk in chunks {
            stored += UInt64(chunk.count)
            recorder.consume(chunk, flow: Self.flow, isRequest: true, storedEnd: stored, now: { Self.t(7) }, into: &entries)
        }
        if finish { recorder.finish(flow: Self.flow, isRequest: true, time: Self.t(7), into: &entries) }
        return entries
    }

    func testTheEntriesDoNotDependOnWhereTheBodyIsCut() {
        let whole = entries([Self.body[...]])
        XCTAssertEqual(whole.map(\.index), [0, 1, 2])
        XCTAssertEqual(whole.map(\.wireBytes), [3, 0, 300])
        XCTAssertEqual(whole.map(\.payloadOffset), [5, 13, 18])
        XCTAssertEqual(whole.map(\.compressed), [false, false, true])
        XCTAssertEqual(whole.map(\.kind), [.message, .message, .message])
        for cut in 0...Self.body.count {
            XCTAssertEqual(entries([Self.body[..<cut], Self.body[cut...]]), whole, "cut at \(cut)")
        }
        XCTAssertEqual(entries(Self.body.indices.map { Self.body[$0...$0] }), whole, "byte by byte")
    }

    func testAFrameTheBodyEndsInsideIsAMalformedCutEntryWithWhatItsPrefixDeclared() {
        let cutPayload = entries([Self.body.prefix(30)])
        XCTAssertEqual(cutPayload.count, 3)
        XCTAssertEqual(cutPayload.last?.kind,
                       .malformed(reason: "the gRPC stream ends inside the frame at byte 13 (17 of 305 bytes)", cut: true))
        XCTAssertEqual(cutPayload.last?.wireBytes, 300)
        XCTAssertEqual(cutPayload.last?.index, 2)
        XCTAssertEqual(cutPayload.last?.compressed, true)
        // Cut inside the 5-byte prefix: the length is unknown.
        let cutPrefix = entries([Self.body.prefix(10)])
        XCTAssertEqual(cutPrefix.last?.kind,
                       .malformed(reason: "the gRPC stream ends inside the frame at byte 8 (2 of 5 bytes)", cut: true))
        XCTAssertNil(cutPrefix.last?.wireBytes)
        XCTAssertEqual(cutPrefix.last?.payloadOffset, 13)
    }

    func testReservedFlagBitsEndTheDirectionWithAMalformedEntry() {
        let bad = Self.frame([1, 2]) + [0x02, 0, 0, 0, 1, 9] + Self.frame([3])
        let found = entries([bad[...]])
        XCTAssertEqual(found.count, 2)
        XCTAssertEqual(found[1].kind, .malformed(reason: "the gRPC frame at byte 7 has reserved flag bits set (flags 0x2)", cut: false))
        XCTAssertEqual(found[1].index, 1)
    }

    func testAGRPCWebTrailerFrameIsAnEntryWithoutAnIndexOfItsOwn() {
        let trailers = Self.frame(Array("grpc-status: 0\r\n".utf8), flags: 0x80)
        let found = entries([(Self.frame([1]) + trailers)[...]], framing: .grpcWeb)
        XCTAssertEqual(found.map(\.kind), [.message, .webTrailers])
        XCTAssertEqual(found.map(\.index), [0, 1])
    }

    func testOnlyFramedGRPCContentTypesAreSplit() {
        XCTAssertEqual(GRPCFraming(framedContentType: "application/grpc"), .grpc)
        XCTAssertEqual(GRPCFraming(framedContentType: "Application/GRPC+proto; charset=x"), .grpc)
        XCTAssertEqual(GRPCFraming(framedContentType: " application/grpc+json"), .grpc)
        XCTAssertEqual(GRPCFraming(framedContentType: "application/grpc-web"), .grpcWeb)
        XCTAssertEqual(GRPCFraming(framedContentType: "application/grpc-web+proto"), .grpcWeb)
        XCTAssertNil(GRPCFraming(framedContentType: "application/grpc-web-text"))
        XCTAssertNil(GRPCFraming(framedContentType: "application/grpcx"))
        XCTAssertNil(GRPCFraming(framedContentType: "application/json"))
        XCTAssertNil(GRPCFraming(framedContentType: ""))
        XCTAssertNil(GRPCFraming(framedContentType: "application/grpc-webx"))
        XCTAssertEqual(GRPCFraming(framedContentType: "application/grpc-web ; x=y"), .grpcWeb)
        XCTAssertEqual(GRPCFraming(framedContentTypeOf: HTTPHeaders([("x", "y"), ("Content-Type", "application/grpc-Web+proto")])),
                       .grpcWeb)
        XCTAssertNil(GRPCFraming(framedContentTypeOf: HTTPHeaders([("x", "application/grpc")])))
    }

    // MARK: Through the writer

    private func head(_ contentType: String) -> HTTPRequestHead {
        HTTPRequestHead(method: "POST", target: "/t.v1.S/Chat", version: .http2,
                        headers: HTTPHeaders([("content-type", contentType), ("te", "trailers")]))
    }

    /// Records one call through a loop's sink (a flush after every chunk, as after each
    /// loop iteration), closes; returns its `grpcMessage` lines and the session.
    private func record(contentType: String = "application/grpc", options: CaptureOptions = CaptureOptions(),
                        request: [[UInt8]], response: [[UInt8]], responseEnds: Bool = true)
        throws -> (lines: [[String: Any]], session: CapturedSession) {
        let writer = try CaptureWriter(root: root, options: options)
        let sink = writer.makeSink()
        sink.record(.connectionOpened(connection: ConnectionID(1), client: "127.0.0.1:5000", listener: "l", time: Self.t(0)))
        sink.record(.flowStarted(flow: Self.flow, connection: ConnectionID(1), kind: .http, scheme: "http",
                                 authority: "h:80", time: Self.t(1)))
        sink.record(.requestHead(flow: Self.flow, head: head(contentType), time: Self.t(1)))
        var clock: Int64 = 10
        for chunk in request {
            sink.recordBody(flow: Self.flow, isRequest: true, bytes: chunk[...], time: Self.t(clock))
            sink.flush()
            clock += 10
        }
        sink.record(.requestEnd(flow: Self.flow, trailers: nil, bodyBytes: UInt64(request.joined().count), time: Self.t(clock)))
        sink.record(.responseHead(flow: Self.flow, head: HTTPResponseHead(
            version: .http2, status: 200, headers: HTTPHeaders([("content-type", contentType)])), time: Self.t(clock)))
        for chunk in response {
            clock += 10
            sink.recordBody(flow: Self.flow, isRequest: false, bytes: chunk[...], time: Self.t(clock))
            sink.flush()
        }
        clock += 10
        if responseEnds {
            sink.record(.responseEnd(flow: Self.flow, trailers: HTTPHeaders([("grpc-status", "0")]),
                                     bodyBytes: UInt64(response.joined().count), time: Self.t(clock)))
        }
        sink.record(.flowEnded(flow: Self.flow, timings: FlowTimings(), bytesFromClient: 0, bytesFromServer: 0,
                               error: responseEnds ? nil : FlowError(.upstreamAborted, "reset"), time: Self.t(clock)))
        sink.flush()
        writer.close()
        let lines = try CaptureTestSupport.lines(of: writer.directory + "/events.jsonl").filter { !$0.isEmpty }.map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        return (lines.filter { $0["type"] as? String == "grpcMessage" }, try CapturedSession.open(directory: writer.directory))
    }

    func testEachMessageIsALineWithItsExtentAndTheTimeItsLastByteArrived() throws {
        let (lines, session) = try record(request: [Array(Self.body.prefix(20)), Array(Self.body.dropFirst(20))],
                                          response: [Self.frame([0x08, 0x01])])
        XCTAssertEqual(session.warnings, [])
        XCTAssertEqual(lines.count, 4)
        XCTAssertEqual(lines[0] as NSDictionary, ["t": Self.t(10).microseconds, "type": "grpcMessage", "flow": 1, "dir": "request",
                                                  "index": 0, "compressed": false, "wireBytes": 3, "off": 5] as NSDictionary)
        XCTAssertEqual(lines.map { $0["t"] as? Int64 }, [10, 10, 20, 40].map { Self.t($0).microseconds })
        let flow = try XCTUnwrap(session.flow(1))
        XCTAssertEqual(flow.grpcMessages, entries([Self.body[...]]).map {
            var entry = $0
            entry.time = $0.index < 2 ? Self.t(10) : Self.t(20)
            return entry
        } + [CapturedGRPCMessage(direction: .response, index: 0, kind: .message, compressed: false, wireBytes: 2,
                                 payloadOffset: 5, truncated: false, time: Self.t(40))])
    }

    func testAMessageBeyondTheBodyLimitKeepsItsWireLengthAndIsMarkedTruncated() throws {
        let (lines, session) = try record(options: CaptureOptions(maxBodyBytes: 20), request: [Self.body], response: [])
        XCTAssertEqual(lines.map { $0["truncated"] as? Bool }, [nil, nil, true])
        XCTAssertEqual(lines.last?["wireBytes"] as? Int, 300)
        let flow = try XCTUnwrap(session.flow(1))
        XCTAssertEqual(flow.requestBody.capturedBytes, 20)
        XCTAssertEqual(flow.grpcMessages.map(\.truncated), [false, false, true])
    }

    func testAResponseCutOffInsideAFrameEndsWithAMalformedLine() throws {
        let (lines, session) = try record(request: [Self.frame([1])], response: [Array(Self.frame([1, 2, 3]).prefix(6))],
                                          responseEnds: false)
        XCTAssertEqual(lines.last?["malformed"] as? String, "the gRPC stream ends inside the frame at byte 0 (6 of 8 bytes)")
        XCTAssertEqual(lines.last?["cut"] as? Bool, true)
        XCTAssertEqual(lines.last?["wireBytes"] as? Int, 3)
        XCTAssertEqual(try XCTUnwrap(session.flow(1)).grpcMessages.last?.kind,
                       .malformed(reason: "the gRPC stream ends inside the frame at byte 0 (6 of 8 bytes)", cut: true))
    }

    func testAFlowThatIsNotGRPCGetsNoGRPCLines() throws {
        let (lines, session) = try record(contentType: "application/octet-stream", request: [Self.body], response: [Self.body])
        XCTAssertEqual(lines.count, 0)
        XCTAssertEqual(try XCTUnwrap(session.flow(1)).grpcMessages, [])
    }

    func testAReaderSkipsAGRPCMessageLineWithoutItsRequiredFields() throws {
        let line: [String: Any] = ["type": "grpcMessage", "dir": "request", "index": 0, "compressed": false, "off": 5]
        let json = try XCTUnwrap(CaptureJSONObject(CaptureJSONParser.parse(
            Array(JSONSerialization.data(withJSONObject: line))[...])))
        XCTAssertNil(CapturedSessionAssembler.grpcMessage(json, time: Self.t(0)), "a message needs wireBytes")
    }
}
