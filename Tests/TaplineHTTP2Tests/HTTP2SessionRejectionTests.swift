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

    func testUpgradeSettingsMustBeBase64URL() {
        XCTAssertThrowsError(try HTTP2Session(upgradeWithSettingsHeader: "%%%", isHeadRequest: false))
        XCTAssertNoThrow(try HTTP2Session(upgradeWithSettingsHeader: "AAMAAABkAAQCAAAAAAIAAAAA", isHeadRequest: false))
    }
}
