@testable import TaplineHTTPClient
import TaplineHTTP2
import TaplineWire
import XCTest

/// RFC 8441 on the client side of an `HTTP2ClientLeg` (replay's WebSocket over HTTP/2),
/// against a server-role `HTTP2Session` through a `SynchronousByteStream`: the leg waits
/// for the server's SETTINGS (sending its preface, which an h2c server waits for), opens
/// an extended CONNECT only when they announced SETTINGS_ENABLE_CONNECT_PROTOCOL, and its
/// stream leg turns the accepted stream into a byte stream (DATA both ways, END_STREAM
/// as EOF and `shutdownWrite`, a reset as the close's error).
final class HTTP2ClientLegExtendedConnectTests: XCTestCase {
    private let target = UpstreamTarget(scheme: .http, host: "origin.test", port: 8080)
    private let extendedConnect = HTTPHeaders([
        (":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "http"), (":authority", "origin.test:8080"),
        (":path", "/chat"), ("sec-websocket-version", "13"),
    ])

    private func openLeg(on origin: HTTP2OriginDouble) throws -> HTTP2ClientLeg {
        try HTTP2ClientLeg.open(upstream: UpstreamConnection(target: target, stream: origin.socket, tls: nil))
    }

    /// The leg waits for the server's SETTINGS, which it first has to ask for with its preface.
    private func awaitSettings(_ leg: HTTP2ClientLeg, _ origin: HTTP2OriginDouble) -> Int {
        var notified = 0
        XCTAssertNil(leg.acceptsExtendedConnect, "unknown before the server's SETTINGS")
        leg.notifyWhenSettingsArrive { notified += 1 }
        XCTAssertEqual(notified, 0)
        XCTAssertFalse(origin.socket.written.isEmpty, "the preface goes out while waiting")
        origin.exchangeFrames()
        return notified
    }

    func testAnnouncedExtendedConnectOpensAStreamThatBecomesAByteStream() throws {
        let origin = try HTTP2OriginDouble()
        let leg = try openLeg(on: origin)
        XCTAssertEqual(awaitSettings(leg, origin), 1)
        XCTAssertEqual(leg.acceptsExtendedConnect, true)
        var ranAtOnce = false
        leg.notifyWhenSettingsArrive { ranAtOnce = true }
        XCTAssertTrue(ranAtOnce, "known SETTINGS: at once")

        let owner = RecordingLegDelegate()
        let stream = try XCTUnwrap(leg.openExtendedConnectStream(owner: owner))
        stream.sendHead(.http2(extendedConnect), endStream: false)
        leg.flushConcurrentStreams()
        origin.exchangeFrames()
        var request: HTTPHeaders?
        for case .headers(_, let fields, .request, let endStream) in origin.received {
            XCTAssertFalse(endStream, "the stream stays open for the WebSocket")
            request = fields
        }
        XCTAssertEqual(request?.first(name: ":protocol"), "websocket")

        try origin.server.submitResponse(stream: stream.stream, headers: HTTPHeaders([(":status", "200")]), endStream: false)
        origin.exchangeFrames()
        XCTAssertEqual(owner.heads.map(\.received.status), [200])

        let bytes = try XCTUnwrap(stream.openByteStream(closeGrace: 1_000, needsPump: { leg.flushConcurrentStreams() }))
        let reader = RecordingByteStreamDelegate()
        bytes.delegate = reader
        bytes.resumeReading()
        bytes.write(Array("frame from client".utf8))
        origin.exchangeFrames()
        let sent = origin.received.compactMap { event -> String? in
            if case .data(_, let data) = event { return String(decoding: data, as: UTF8.self) }
            return nil
        }
        XCTAssertEqual(sent, ["frame from client"])

        origin.server.send(data: Array("frame from server".utf8), stream: stream.stream)
        origin.server.finish(stream: stream.stream)
        origin.exchangeFrames()
        XCTAssertEqual(reader.events, ["read frame from server", "eof"])
        bytes.shutdownWrite()
        origin.exchangeFrames()
        XCTAssertTrue(origin.received.contains { if case .endStream = $0 { return true } else { return false } },
                      "shutdownWrite ends the stream")
        XCTAssertEqual(reader.events.last, "closed cleanly")
        XCTAssertFalse(owner.events.contains { $0.hasPrefix("failed") || $0.hasPrefix("reset") },
                       "the relayed stream's events are the byte stream's: \(owner.events)")
    }

    func testAResetStreamClosesTheByteStreamWithItsCode() throws {
        let origin = try HTTP2OriginDouble()
        let leg = try openLeg(on: origin)
        _ = awaitSettings(leg, origin)
        let stream = try XCTUnwrap(leg.openExtendedConnectStream(owner: RecordingLegDelegate()))
        stream.sendHead(.http2(extendedConnect), endStream: false)
        leg.flushConcurrentStreams()
        origin.exchangeFrames()
        try origin.server.submitResponse(stream: stream.stream, headers: HTTPHeaders([(":status", "200")]), endStream: false)
        origin.exchangeFrames()
        let bytes = try XCTUnwrap(stream.openByteStream(closeGrace: 1_000, needsPump: { leg.flushConcurrentStreams() }))
        let reader = RecordingByteStreamDelegate()
        bytes.delegate = reader
        bytes.resumeReading()
        origin.server.reset(stream: stream.stream, code: .cancel)
        origin.exchangeFrames()
        XCTAssertEqual(reader.events, ["closed its HTTP/2 stream was reset with \(HTTP2ErrorCode.cancel)"])
    }

    func testWithoutTheSettingNoExtendedConnectIsOpened() throws {
        var settings = HTTP2SessionSettings()
        settings.enableConnectProtocol = false
        let origin = try HTTP2OriginDouble(settings: settings)
        let leg = try openLeg(on: origin)
        XCTAssertEqual(awaitSettings(leg, origin), 1)
        XCTAssertEqual(leg.acceptsExtendedConnect, false)
        XCTAssertNil(leg.openExtendedConnectStream(owner: RecordingLegDelegate()))
        XCTAssertNotNil(leg.openConcurrentStream(owner: RecordingLegDelegate()), "ordinary streams still open")
    }

    func testAConnectionThatClosesBeforeItsSettingsRunsTheWaitingClosure() throws {
        let origin = try HTTP2OriginDouble()
        let leg = try openLeg(on: origin)
        var notified = 0
        leg.notifyWhenSettingsArrive { notified += 1 }
        origin.socket.deliverClose()
        XCTAssertEqual(notified, 1)
        XCTAssertFalse(leg.canOpenStreams)
        XCTAssertNil(leg.openExtendedConnectStream(owner: RecordingLegDelegate()))
    }
}
