import XCTest
@testable import TaplineHTTP2

/// A peer violation that nghttp2 answers by ending the session itself (it queues
/// GOAWAY and consumes the input without failing `mem_recv`) still reaches the
/// owner as a connection error with nghttp2's reason.
final class HTTP2SessionLibraryTerminationTests: XCTestCase {
    typealias Reader = HTTP2FrameReader
    static let ping = Reader.frame(type: 6, stream: 0, payload: Array(repeating: 0, count: 8))

    /// A SETTINGS frame with one parameter.
    static func settings(_ identifier: UInt16, _ value: UInt32) -> [UInt8] {
        Reader.frame(type: 4, stream: 0, payload: [UInt8(identifier >> 8), UInt8(identifier & 0xff),
                                                   UInt8(value >> 24), UInt8((value >> 16) & 0xff),
                                                   UInt8((value >> 8) & 0xff), UInt8(value & 0xff)])
    }

    func goAway(_ session: HTTP2Session) -> Reader.Frame? {
        Reader.frames(session.takeOutput()).first { $0.type == 7 }
    }

    func testClientSessionReportsAServerWhoseFirstFrameIsNotSettings() throws {
        let client = try HTTP2Session(role: .client)
        _ = client.takeOutput()
        let error = client.receive(Self.ping)
        guard case .connectionError(.protocolError, let reason)? = error else {
            return XCTFail("receive returned \(String(describing: error))")
        }
        XCTAssertTrue(reason.contains("expected SETTINGS frame"), reason)
        XCTAssertEqual(goAway(client)?.errorCode, HTTP2ErrorCode.protocolError.rawValue)
        XCTAssertEqual(client.failure, error, "the GOAWAY's text does not replace nghttp2's message")
        XCTAssertTrue(client.isFinished)
    }

    func testClientSessionReportsAnInvalidSettingsValueWithTheGoAwayText() throws {
        let client = try HTTP2Session(role: .client)
        _ = client.takeOutput()
        // SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1 is a FLOW_CONTROL_ERROR (RFC 9113 §6.5.2).
        let error = client.receive(Self.settings(0x4, 0x8000_0000))
        guard case .connectionError(.flowControlError, _)? = error else {
            return XCTFail("receive returned \(String(describing: error))")
        }
        XCTAssertEqual(goAway(client)?.errorCode, HTTP2ErrorCode.flowControlError.rawValue)
        guard case .connectionError(.flowControlError, let reason)? = client.failure else {
            return XCTFail("failure is \(String(describing: client.failure))")
        }
        XCTAssertTrue(reason.contains("SETTINGS_INITIAL_WINDOW_SIZE"), reason)
        XCTAssertEqual(client.receive(Self.ping), client.failure, "later input gets the same error")
    }

    func testServerSessionRecordsAClientWhoseFirstFrameIsNotSettings() throws {
        let server = try HTTP2Session(role: .server)
        server.receive(Reader.preface + Self.ping)
        XCTAssertEqual(goAway(server)?.errorCode, HTTP2ErrorCode.protocolError.rawValue)
        guard case .connectionError(.protocolError, let reason)? = server.failure else {
            return XCTFail("failure is \(String(describing: server.failure))")
        }
        XCTAssertTrue(reason.contains("expected SETTINGS frame"), reason)
    }

    /// The client socket was not writable: more input arrived before nghttp2's GOAWAY
    /// was framed. nghttp2 ignores that input, and its reason still reaches the failure.
    func testServerSessionKeepsNghttp2sReasonThroughALaterReceive() throws {
        let server = try HTTP2Session(role: .server)
        server.receive(Reader.preface + Self.ping)
        XCTAssertNil(server.receive(Self.settings(0x3, 100)), "nghttp2 ignores input after ending the session")
        XCTAssertEqual(goAway(server)?.errorCode, HTTP2ErrorCode.protocolError.rawValue)
        guard case .connectionError(.protocolError, let reason)? = server.failure else {
            return XCTFail("failure is \(String(describing: server.failure))")
        }
        XCTAssertTrue(reason.contains("expected SETTINGS frame"), "not nghttp2's message: \(reason)")
    }

    /// A report whose output went out (a stream error) is not the reason of a later
    /// connection error nghttp2 reports without a message.
    func testAReportIsForgottenOnceItsOutputIsOut() throws {
        let server = try HTTP2Session(role: .server)
        server.receive(Reader.preface + Self.settings(0x3, 100))
        _ = server.takeOutput()
        server.lastLibraryMessage = "a stale report"
        _ = server.takeOutput()
        XCTAssertNil(server.lastLibraryMessage)
    }

    func testOurOwnGoAwayIsNotAFailure() throws {
        let client = try HTTP2Session(role: .client)
        XCTAssertNil(client.receive(Self.settings(0x3, 100)))
        client.goAway(code: .noError)
        client.terminate(code: .internalError)
        XCTAssertNotNil(goAway(client))
        XCTAssertNil(client.failure)
    }
}
