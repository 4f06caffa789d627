import XCTest
import TaplineWire
@testable import TaplineHTTP2

/// A client session and a server session of ours talk to each other through
/// byte buffers; every byte stream is delivered whole, split at every offset,
/// and byte by byte, and the events seen must not depend on the split.
final class HTTP2SessionExchangeTests: XCTestCase {
    static let requestHeaders = HTTPHeaders([(":method", "POST"), (":scheme", "https"), (":authority", "example.test"),
                                             (":path", "/upload?x=1"), ("content-type", "text/plain"), ("te", "trailers")])
    static let responseHeaders = HTTPHeaders([(":status", "200"), ("content-type", "text/plain"), ("x-order", "b"),
                                              ("x-order", "a")])

    /// Events with adjacent DATA / dataSent of one stream merged (their chunking depends on the split).
    static func normalized(_ events: [HTTP2Event]) -> [HTTP2Event] {
        var out: [HTTP2Event] = []
        for event in events {
            switch (out.last, event) {
            case (.data(let s1, let a)?, .data(let s2, let b)) where s1 == s2:
                out[out.count - 1] = .data(stream: s1, bytes: a + b)
            case (.dataSent(let s1, let a)?, .dataSent(let s2, let b)) where s1 == s2:
                out[out.count - 1] = .dataSent(stream: s1, count: a + b)
            default:
                out.append(event)
            }
        }
        return out
    }

    /// Runs one POST with a body and trailers, answered with a body and trailers.
    /// `deliver` splits each buffer of bytes into the pieces handed to `receive`.
    func exchange(_ deliver: ([UInt8]) -> [ArraySlice<UInt8>]) throws -> (client: [HTTP2Event], server: [HTTP2Event]) {
        let client = try HTTP2Session(role: .client)
        let server = try HTTP2Session(role: .server)
        let stream = try client.submitRequest(Self.requestHeaders, endStream: false)
        client.send(data: Array("hello, ".utf8), stream: stream)
        client.send(data: Array("world".utf8), stream: stream)
        client.finish(stream: stream, trailers: HTTPHeaders([("x-checksum", "abc")]))
        var clientEvents: [HTTP2Event] = []
        var serverEvents: [HTTP2Event] = []
        var answered = false
        for _ in 0..<20 {
            let toServer = client.takeOutput()
            for piece in deliver(toServer) { XCTAssertNil(server.receive(piece)) }
            for event in server.takeEvents() {
                serverEvents.append(event)
                if case .data(let id, let bytes) = event { server.consume(stream: id, count: bytes.count) }
                if case .headers(let id, _, .trailers, _) = event, !answered {
                    answered = true
                    try server.submitResponse(stream: id, headers: Self.responseHeaders, endStream: false)
                    server.send(data: Array(repeating: 0x61, count: 40_000), stream: id)
                    server.finish(stream: id, trailers: HTTPHeaders([("grpc-status", "0")]))
                }
            }
            let toClient = server.takeOutput()
            for piece in deliver(toClient) { XCTAssertNil(client.receive(piece)) }
            for event in client.takeEvents() {
                clientEvents.append(event)
                if case .data(let id, let bytes) = event { client.consume(stream: id, count: bytes.count) }
            }
            if toServer.isEmpty && toClient.isEmpty { break }
        }
        return (Self.normalized(clientEvents), Self.normalized(serverEvents))
    }

    /// Each block is filed as the head it is: the server sees a request, then trailers;
    /// the client sees two interim responses, the final response and trailers, on two
    /// streams at once (one answered without interim responses), and a trailer-less
    /// stream after them still gets its response as a response.
    func testHeaderBlocksAreFiledAsRequestInterimResponseFinalResponseOrTrailers() throws {
        let client = try HTTP2Session(role: .client)
        let server = try HTTP2Session(role: .server)
        let interim = try client.submitRequest(Self.requestHeaders, endStream: false)
        client.finish(stream: interim, trailers: HTTPHeaders([("x-checksum", "abc")]))
        let plain = try client.submitRequest(Self.requestHeaders, endStream: true)
        let (clientEvents, serverEvents) = try HTTP2SessionPump.run(client, server) { event in
            guard case .headers(let id, _, let kind, _) = event else { return }
            if id == interim, kind == .trailers {
                try server.submitInformational(stream: id, headers: HTTPHeaders([(":status", "103"), ("link", "</a>")]))
                try server.submitInformational(stream: id, headers: HTTPHeaders([(":status", "100")]))
                try server.submitResponse(stream: id, headers: Self.responseHeaders, endStream: false)
                server.send(data: Array("ok".utf8), stream: id)
                server.finish(stream: id, trailers: HTTPHeaders([("grpc-status", "0")]))
            } else if id == plain, kind == .request {
                try server.submitResponse(stream: id, headers: Self.responseHeaders, endStream: false)
                server.finish(stream: id)
            }
        }
        func kinds(_ events: [HTTP2Event], _ stream: Int32) -> [HTTP2HeadersKind] {
            events.compactMap { if case .headers(stream, _, let kind, _) = $0 { kind } else { nil } }
        }
        XCTAssertEqual(kinds(serverEvents, interim), [.request, .trailers])
        XCTAssertEqual(kinds(serverEvents, plain), [.request])
        XCTAssertEqual(kinds(clientEvents, interim), [.informational, .informational, .response, .trailers])
        XCTAssertEqual(kinds(clientEvents, plain), [.response])
        let third = try client.submitRequest(Self.requestHeaders, endStream: true)
        let (later, _) = try HTTP2SessionPump.run(client, server) { event in
            if case .headers(let id, _, .request, _) = event {
                try server.submitResponse(stream: id, headers: Self.responseHeaders, endStream: true)
            }
        }
        XCTAssertEqual(kinds(later, third), [.response])
    }

    func testWholeExchangeProducesTheExpectedEvents() throws {
        let (client, server) = try exchange { [$0[...]] }
        let requestEvents = server.filter { if case .settings = $0 { return false } else { return true } }
        XCTAssertEqual(Array(requestEvents.prefix(3)), [
            .headers(stream: 1, fields: Self.requestHeaders, kind: .request, endStream: false),
            .data(stream: 1, bytes: Array("hello, world".utf8)),
            .headers(stream: 1, fields: HTTPHeaders([("x-checksum", "abc")]), kind: .trailers, endStream: true),
        ])
        XCTAssertTrue(server.contains(.dataSent(stream: 1, count: 40_000)))
        XCTAssertTrue(server.contains(.streamClosed(stream: 1, code: .noError)))
        XCTAssertTrue(client.contains(.headers(stream: 1, fields: Self.responseHeaders, kind: .response, endStream: false)))
        XCTAssertTrue(client.contains(.data(stream: 1, bytes: Array(repeating: 0x61, count: 40_000))))
        XCTAssertTrue(client.contains(.headers(stream: 1, fields: HTTPHeaders([("grpc-status", "0")]), kind: .trailers,
                                               endStream: true)))
        XCTAssertTrue(client.contains(.dataSent(stream: 1, count: 12)))
        guard case .settings(let parameters)? = server.first else { return XCTFail("server saw no SETTINGS first: \(server)") }
        XCTAssertTrue(parameters.contains(HTTP2SettingParameter(identifier: 2, value: 0)), "client disables push")
        XCTAssertTrue(parameters.contains(HTTP2SettingParameter(identifier: 4, value: 1 << 20)))
    }

    func testEventsDoNotDependOnHowBytesAreSplit() throws {
        let reference = try exchange { [$0[...]] }
        // Split at every offset of the first 400 bytes (preface, SETTINGS, HEADERS, DATA, trailers)
        // and at a coarser step beyond.
        var offsets = Array(0...400)
        offsets += stride(from: 401, to: 42_000, by: 997)
        for offset in offsets {
            let split = try exchange { bytes in
                let cut = min(offset, bytes.count)
                return [bytes[0..<cut], bytes[cut...]]
            }
            XCTAssertEqual(split.client, reference.client, "client events differ when split at \(offset)")
            XCTAssertEqual(split.server, reference.server, "server events differ when split at \(offset)")
        }
        let byteByByte = try exchange { bytes in bytes.indices.map { bytes[$0...$0] } }
        XCTAssertEqual(byteByByte.client, reference.client)
        XCTAssertEqual(byteByByte.server, reference.server)
    }

    func testBodyIsDeferredUntilBytesArriveAndCreditReturnsOnlyOnConsume() throws {
        let client = try HTTP2Session(role: .client)
        var serverSettings = HTTP2SessionSettings()
        serverSettings.streamWindow = 16_384
        let server = try HTTP2Session(role: .server, settings: serverSettings)
        let stream = try client.submitRequest(Self.requestHeaders, endStream: false)
        server.receive(client.takeOutput())
        client.receive(server.takeOutput()) // SETTINGS: stream window 16 KiB
        server.receive(client.takeOutput()) // SETTINGS ack
        _ = server.takeEvents()
        XCTAssertTrue(client.takeOutput().isEmpty, "nothing queued: the body is deferred, not ended")
        client.send(data: Array(repeating: 1, count: 40_000), stream: stream)
        server.receive(client.takeOutput())
        let received = server.takeEvents().reduce(0) { total, event in
            if case .data(_, let bytes) = event { return total + bytes.count } else { return total }
        }
        XCTAssertEqual(received, 16_384, "the peer may send only one stream window before credit returns")
        client.receive(server.takeOutput())
        XCTAssertTrue(client.takeOutput().isEmpty, "no credit returned without consume")
        server.consume(stream: stream, count: received)
        client.receive(server.takeOutput())
        server.receive(client.takeOutput())
        let more = server.takeEvents().reduce(0) { total, event in
            if case .data(_, let bytes) = event { return total + bytes.count } else { return total }
        }
        XCTAssertEqual(more, 16_384)
        XCTAssertEqual(client.bufferedBytes(stream: stream), 40_000 - 2 * 16_384)
    }

    /// Outbound streams are reused after a stream closes: a stream reset with bytes
    /// still queued must leave nothing (bytes, trailers, deferral) to the streams after it.
    func testStreamsAfterAResetStreamSendOnlyTheirOwnBodies() throws {
        let client = try HTTP2Session(role: .client)
        let server = try HTTP2Session(role: .server)
        var serverEvents: [HTTP2Event] = []
        func deliver() throws { serverEvents += try HTTP2SessionPump.run(client, server).server }
        let reset = try client.submitRequest(Self.requestHeaders, endStream: false)
        try deliver()  // its HEADERS go out; the body is deferred (nothing queued yet)
        client.send(data: Array("stale".utf8), stream: reset)
        client.finish(stream: reset, trailers: HTTPHeaders([("x-stale", "1")]))
        client.reset(stream: reset, code: .cancel)
        let second = try client.submitRequest(Self.requestHeaders, endStream: false)
        client.send(data: Array("bee".utf8), stream: second)
        client.finish(stream: second, trailers: HTTPHeaders([("x-second", "2")]))
        let third = try client.submitRequest(Self.requestHeaders, endStream: false)
        try deliver()  // the third stream's body is deferred until it arrives
        client.send(data: Array("sea".utf8), stream: third)
        client.finish(stream: third)
        try deliver()

        let events = Self.normalized(serverEvents)
        func data(_ id: Int32) -> [UInt8] {
            events.reduce(into: []) { if case .data(id, let bytes) = $1 { $0 += bytes } }
        }
        func trailers(_ id: Int32) -> [HTTPHeaders] {
            events.compactMap { if case .headers(id, let fields, .trailers, _) = $0 { fields } else { nil } }
        }
        XCTAssertEqual(data(reset), [])
        XCTAssertEqual(trailers(reset), [])
        XCTAssertTrue(events.contains(.streamReset(stream: reset, code: .cancel)), "\(events)")
        XCTAssertEqual(data(second), Array("bee".utf8))
        XCTAssertEqual(trailers(second), [HTTPHeaders([("x-second", "2")])])
        XCTAssertEqual(data(third), Array("sea".utf8))
        XCTAssertEqual(trailers(third), [])
        XCTAssertTrue(events.contains(.endStream(stream: third)), "\(events)")
    }

    /// Header blocks reuse the previous block's strings where the bytes match: each
    /// block must still come out exactly as sent, whatever it shares with the one before.
    func testHeaderBlocksThatShareFieldsWithThePreviousOneArriveExactlyAsSent() throws {
        let client = try HTTP2Session(role: .client)
        let server = try HTTP2Session(role: .server)
        let blocks: [HTTPHeaders] = [
            HTTPHeaders([(":method", "GET"), (":scheme", "http"), (":authority", "a"), (":path", "/1"),
                         ("user-agent", "a-rather-long-user-agent/1.0"), ("accept", "*/*")]),
            HTTPHeaders([(":method", "GET"), (":scheme", "http"), (":authority", "a"), (":path", "/2"),
                         ("user-agent", "a-rather-long-user-agent/1.0"), ("accept", "text/html")]),
            HTTPHeaders([(":method", "POST"), (":scheme", "http"), (":authority", "a"), (":path", "/2"),
                         ("x-user-agent", "a-rather-long-user-agent/1.0"), ("accept", "text/html"), ("x-more", "1")]),
            HTTPHeaders([(":method", "GET"), (":scheme", "http"), (":authority", "b"), (":path", "/")]),
        ]
        for block in blocks { _ = try client.submitRequest(block, endStream: true) }
        XCTAssertNil(server.receive(client.takeOutput()))
        let received = server.takeEvents().compactMap { event -> HTTPHeaders? in
            if case .headers(_, let fields, .request, _) = event { return fields } else { return nil }
        }
        XCTAssertEqual(received, blocks)
    }
}
