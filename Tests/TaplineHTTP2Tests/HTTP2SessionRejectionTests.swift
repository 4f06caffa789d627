import XCTest
import TaplineWire
@testable import TaplineHTTP2

/// Malformed input gets the GOAWAY or RST_STREAM the RFC asks for, and never a crash.
final class HTTP2SessionRejectionTests: XCTestCase {
    typealias Reader = HTTP2FrameReader
    static let emptySettings = Reader.frame(type: 4, stream: 0, payload: [])

    /// Feeds `input` to a fresh server session; returns the frames it answered with.
    func serverAnswer(to input: [UInt8]) throws -> [Reader.Frame] {
        let server = try HTTP2Session(role: .server)
        server.receive(input)
        _ = server.takeEvents()
        return Reader.frames(server.takeOutput())
    }

    func goAwayCode(_ frames: [Reader.Frame]) -> HTTP2ErrorCode? {
        frames.first { $0.type == 7 }?.errorCode.map(HTTP2ErrorCode.init(rawValue:))
    }

    func testBadPrefaceGetsProtocolErrorGoAway() throws {
        let server = try HTTP2Session(role: .server)
        let error = server.receive(Array("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n".utf8))
        guard case .connectionError(.protocolError, _)? = error else { return XCTFail("got \(String(describing: error))") }
        XCTAssertEqual(goAwayCode(Reader.frames(server.takeOutput())), .protocolError)
        XCTAssertTrue(server.isFinished)
    }

    func testDataOnStreamZeroIsAConnectionError() throws {
        let frames = try serverAnswer(to: Reader.preface + Self.emptySettings
                                      + Reader.frame(type: 0, stream: 0, payload: Array("x".utf8)))
        XCTAssertEqual(goAwayCode(frames), .protocolError)
    }

    func testOversizeFrameIsAFrameSizeError() throws {
        let frames = try serverAnswer(to: Reader.preface + Self.emptySettings
                                      + Reader.frame(type: 0, stream: 1, payload: Array(repeating: 0, count: 16_385)))
        XCTAssertEqual(goAwayCode(frames), .frameSizeError)
    }

    /// Sends `headers` from one of our client sessions (which does not validate what it sends).
    func serverAnswer(toRequest headers: HTTPHeaders) throws -> [Reader.Frame] {
        let client = try HTTP2Session(role: .client)
        _ = try client.submitRequest(headers, endStream: true)
        return try serverAnswer(to: client.takeOutput())
    }

    static let valid = [(":method", "GET"), (":scheme", "http"), (":authority", "a.test"), (":path", "/")]

    func testInvalidPseudoHeaderResetsTheStream() throws {
        let frames = try serverAnswer(toRequest: HTTPHeaders(Self.valid + [(":bogus", "1")]))
        XCTAssertEqual(frames.first { $0.type == 3 }?.errorCode, HTTP2ErrorCode.protocolError.rawValue)
        let missingPath = try serverAnswer(toRequest: HTTPHeaders(Array(Self.valid.dropLast())))
        XCTAssertEqual(missingPath.first { $0.type == 3 }?.errorCode, HTTP2ErrorCode.protocolError.rawValue)
    }

    func testUppercaseHeaderNameResetsTheStream() throws {
        // nghttp2 lowercases names it sends, so the block is HPACK-encoded by hand:
        // :method GET, :scheme http, :path / (static indices), :authority a.test, then "X-Upper: 1".
        let block: [UInt8] = [0x82, 0x86, 0x84, 0x41, 6] + Array("a.test".utf8) + [0x00, 7] + Array("X-Upper".utf8)
            + [1] + Array("1".utf8)
        let frames = try serverAnswer(to: Reader.preface + Self.emptySettings
                                      + Reader.frame(type: 1, flags: 0x5, stream: 1, payload: block))
        XCTAssertEqual(frames.first { $0.type == 3 }?.errorCode, HTTP2ErrorCode.protocolError.rawValue)
    }

    func testConnectionSpecificHeaderResetsTheStream() throws {
        for field in [("connection", "keep-alive"), ("transfer-encoding", "chunked"), ("te", "gzip")] {
            let frames = try serverAnswer(toRequest: HTTPHeaders(Self.valid + [field]))
            XCTAssertEqual(frames.first { $0.type == 3 }?.errorCode, HTTP2ErrorCode.protocolError.rawValue, "\(field)")
        }
    }

    func testHeadersOnAClosedStreamIsAConnectionError() throws {
        let client = try HTTP2Session(role: .client)
        _ = try client.submitRequest(HTTPHeaders(Self.valid), endStream: true)
        let first = client.takeOutput()
        // Replay the same HEADERS frame (stream 1, END_STREAM) after the stream was used.
        let headersFrame = Reader.frames(first).first { $0.type == 1 }
        let replay = headersFrame.map { Reader.frame(type: 1, flags: $0.flags, stream: 1, payload: $0.payload) } ?? []
        let server = try HTTP2Session(role: .server)
        server.receive(first)
        for case .headers(let id, _, _, _) in server.takeEvents() {
            try server.submitResponse(stream: id, headers: HTTPHeaders([(":status", "204")]), endStream: true)
        }
        _ = server.takeOutput()
        server.receive(replay)
        let code = goAwayCode(Reader.frames(server.takeOutput()))
        XCTAssertTrue(code == .streamClosed || code == .protocolError, "got \(String(describing: code))")
    }

    /// A block over SETTINGS_MAX_HEADER_LIST_SIZE is not reset by the session: it arrives
    /// as `oversizedHeaders` with the fields that fit and the whole block's size (RFC 9113
    /// §6.5.2: name + value + 32 a field), and the owner can still answer on the stream.
    func testAHeaderListOverTheLimitArrivesWithTheFieldsThatFitAndTheStreamOpen() throws {
        var settings = HTTP2SessionSettings()
        settings.maxHeaderListSize = 1024
        let fields = Self.valid + (0..<30).map { (String(format: "x-field-%02d", $0), String(repeating: "v", count: 50)) }
        let sizes = fields.map { $0.0.utf8.count + $0.1.utf8.count + 32 }
        let fitting = sizes.indices.first { sizes[...$0].reduce(0, +) > 1024 }!
        let client = try HTTP2Session(role: .client)
        let server = try HTTP2Session(role: .server, settings: settings)
        _ = try client.submitRequest(HTTPHeaders(fields), endStream: true)
        let (_, serverEvents) = try HTTP2SessionPump.run(client, server)
        XCTAssertTrue(serverEvents.contains(.oversizedHeaders(stream: 1, fields: HTTPHeaders(Array(fields[..<fitting])),
                                                              kind: .request, endStream: true, size: sizes.reduce(0, +))),
                      "\(serverEvents)")
        XCTAssertFalse(serverEvents.contains { if case .headers = $0 { return true } else { return false } })
        try server.submitResponse(stream: 1, headers: HTTPHeaders([(":status", "431")]), endStream: true)
        let (clientEvents, _) = try HTTP2SessionPump.run(client, server)
        XCTAssertTrue(clientEvents.contains(.headers(stream: 1, fields: HTTPHeaders([(":status", "431")]),
                                                     kind: .response, endStream: true)), "\(clientEvents)")
    }

    func testAResponseHeaderListOverTheLimitArrivesAsOversizedToTheClient() throws {
        var settings = HTTP2SessionSettings()
        settings.maxHeaderListSize = 512
        let client = try HTTP2Session(role: .client, settings: settings)
        let server = try HTTP2Session(role: .server)
        let stream = try client.submitRequest(HTTPHeaders(Self.valid), endStream: true)
        let response = [(":status", "200")] + (0..<20).map { (String(format: "x-big-%02d", $0), String(repeating: "b", count: 40)) }
        let (clientEvents, _) = try HTTP2SessionPump.run(client, server) { event in
            if case .headers(let id, _, .request, _) = event {
                try server.submitResponse(stream: id, headers: HTTPHeaders(response), endStream: false)
            }
        }
        let oversized = clientEvents.compactMap { event -> (HTTP2HeadersKind, Int, Int)? in
            guard case .oversizedHeaders(stream, let fields, let kind, false, let size) = event else { return nil }
            return (kind, fields.count, size)
        }
        XCTAssertEqual(oversized.count, 1, "\(clientEvents)")
        XCTAssertEqual(oversized.first?.0, .response)
        XCTAssertEqual(oversized.first?.2, response.map { $0.0.utf8.count + $0.1.utf8.count + 32 }.reduce(0, +))
        XCTAssertEqual(oversized.first?.1, 6)  // :status (39 bytes) + 6 fields of 80 fit in 512
    }

    func testUpgradeSettingsMustBeBase64URL() {
        XCTAssertThrowsError(try HTTP2Session(upgradeWithSettingsHeader: "%%%", isHeadRequest: false))
        XCTAssertNoThrow(try HTTP2Session(upgradeWithSettingsHeader: "AAMAAABkAAQCAAAAAAIAAAAA", isHeadRequest: false))
    }
}
