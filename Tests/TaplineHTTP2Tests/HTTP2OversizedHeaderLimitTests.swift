import XCTest
import TaplineWire
@testable import TaplineHTTP2

/// A peer that keeps sending header lists over SETTINGS_MAX_HEADER_LIST_SIZE (each one
/// fully HPACK-decoded before it can be refused) is told to calm down after
/// `maxOversizedHeaderBlocks` of them, and nothing it sends afterwards is decoded.
final class HTTP2OversizedHeaderLimitTests: XCTestCase {
    typealias Reader = HTTP2FrameReader
    static let valid = [(":method", "GET"), (":scheme", "http"), (":authority", "a.test"), (":path", "/")]
    /// 30 fields of 50-byte values: over a 1,024-byte header list limit.
    static let oversized = HTTPHeaders(valid + (0..<30).map { (String(format: "x-field-%02d", $0), String(repeating: "v", count: 50)) })

    /// Sends `count` oversized requests (streams 1, 3, 5, ...) in one read to a server
    /// session with a 1 KiB limit that answers each refused block with 431.
    func serve(oversizedRequests count: Int) throws -> (server: HTTP2Session, events: [HTTP2Event], error: HTTP2SessionError?,
                                                        frames: [Reader.Frame]) {
        var settings = HTTP2SessionSettings()
        settings.maxHeaderListSize = 1024
        let server = try HTTP2Session(role: .server, settings: settings)
        let client = try HTTP2Session(role: .client)
        for _ in 0..<count { _ = try client.submitRequest(Self.oversized, endStream: true) }
        var input: [UInt8] = []
        while case let chunk = client.takeOutput(), !chunk.isEmpty { input += chunk }
        let error = server.receive(input)
        let events = server.takeEvents()
        for case .oversizedHeaders(let id, _, .request, _, _) in events {
            try server.submitResponse(stream: id, headers: HTTPHeaders([(":status", "431")]), endStream: true)
        }
        var output: [UInt8] = []
        while case let chunk = server.takeOutput(), !chunk.isEmpty { output += chunk }
        return (server, events, error, Reader.frames(output))
    }

    func refusedStreams(_ events: [HTTP2Event]) -> [Int32] {
        events.compactMap { if case .oversizedHeaders(let id, _, _, _, _) = $0 { return id } else { return nil } }
    }

    func testFewerOversizedListsThanTheLimitKeepTheConnection() throws {
        let (server, events, error, frames) = try serve(oversizedRequests: 2)
        XCTAssertNil(error)
        XCTAssertEqual(refusedStreams(events), [1, 3])
        XCTAssertFalse(frames.contains { $0.type == 7 }, "no GOAWAY: \(frames)")
        XCTAssertTrue(server.wantsRead)
    }

    func testTheThirdOversizedListGetsGoAwayEnhanceYourCalmAndLaterInputIsNotDecoded() throws {
        let (server, events, error, frames) = try serve(oversizedRequests: 5)
        guard case .connectionError(.enhanceYourCalm, let reason)? = error else {
            return XCTFail("got \(String(describing: error))")
        }
        XCTAssertTrue(reason.contains("3 header lists over the 1024 bytes"), reason)
        // Streams 7 and 9 came in the same read, but nghttp2 was stopped before them.
        XCTAssertEqual(refusedStreams(events), [1, 3, 5])
        let goAways = frames.filter { $0.type == 7 }
        XCTAssertEqual(goAways.count, 1)
        XCTAssertEqual(goAways.first?.errorCode, HTTP2ErrorCode.enhanceYourCalm.rawValue)
        XCTAssertEqual(goAways.first.map { $0.payload[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) } }, 5,
                       "the GOAWAY's last stream is the third refused one")
        // The three refused streams still got their answers; nothing else is read.
        XCTAssertEqual(frames.filter { $0.type == 1 }.map(\.stream), [1, 3, 5])
        _ = server.takeEvents()  // the answered streams' closes
        XCTAssertEqual(server.receive(try Self.oversizedRequestBytes()), error)
        XCTAssertEqual(server.takeEvents(), [])
        XCTAssertTrue(server.isFinished, "the connection can be closed once the answers are out")
    }

    /// A stream opened before the calm-down GOAWAY (RFC 9113 §6.8: below its last stream
    /// id) is still answered: the session is not finished until that stream is closed.
    func testAStreamOpenedBeforeTheCalmDownIsStillAnsweredBeforeTheSessionFinishes() throws {
        var settings = HTTP2SessionSettings()
        settings.maxHeaderListSize = 1024
        let server = try HTTP2Session(role: .server, settings: settings)
        let client = try HTTP2Session(role: .client)
        let first = try client.submitRequest(HTTPHeaders(Self.valid), endStream: true)
        for _ in 0..<3 { _ = try client.submitRequest(Self.oversized, endStream: true) }
        var input: [UInt8] = []
        while case let chunk = client.takeOutput(), !chunk.isEmpty { input += chunk }
        guard case .connectionError(.enhanceYourCalm, _)? = server.receive(input) else {
            return XCTFail("no calm-down: \(String(describing: server.failure))")
        }
        XCTAssertTrue(server.answersAcceptedStreamsOnly)
        for case .oversizedHeaders(let id, _, .request, _, _) in server.takeEvents() {
            try server.submitResponse(stream: id, headers: HTTPHeaders([(":status", "431")]), endStream: true)
        }
        var output: [UInt8] = []
        while case let chunk = server.takeOutput(), !chunk.isEmpty { output += chunk }
        XCTAssertTrue(Reader.frames(output).contains { $0.type == 7 }, "the GOAWAY is out")
        XCTAssertFalse(server.isFinished, "stream \(first) waits for its answer")

        try server.submitResponse(stream: first, headers: HTTPHeaders([(":status", "200")]), endStream: false)
        server.send(data: Array("late answer".utf8), stream: first)
        server.finish(stream: first)
        while case let chunk = server.takeOutput(), !chunk.isEmpty { output += chunk }
        XCTAssertNil(client.receive(output))
        let answered = client.takeEvents()
        XCTAssertTrue(answered.contains(.data(stream: first, bytes: Array("late answer".utf8))), "\(answered)")
        XCTAssertTrue(answered.contains(.endStream(stream: first)), "\(answered)")
        XCTAssertTrue(server.isFinished, "every accepted stream is closed")
    }

    /// One more oversized request, as a fresh client would frame it.
    static func oversizedRequestBytes() throws -> [UInt8] {
        let client = try HTTP2Session(role: .client)
        _ = try client.submitRequest(oversized, endStream: true)
        return client.takeOutput()
    }
}
