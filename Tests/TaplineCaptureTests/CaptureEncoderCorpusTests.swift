import XCTest
import TaplineFlow
import TaplineWire
@testable import TaplineCapture

/// The capture encoder writes every event type exactly as the format says, byte for
/// byte: each line equals what an independent reference serializer (below) makes of
/// the expected members, and `CaptureJSONParser` reads the same members back in the
/// same order. The corpus covers header text of every escape class, non-ASCII and
/// invalid UTF-8, empty names and values, large integers and times on both sides of
/// a second boundary (the encoder reuses the digits of the last time and second).
final class CaptureEncoderCorpusTests: XCTestCase {
    private typealias Member = (key: String, value: CaptureJSONValue)

    /// 2026-09-21T…: 16-digit µs, as every time the proxy records.
    private static let second: Int64 = 1_790_000_000_000_000
    private static func t(_ micros: Int64) -> Timestamp { Timestamp(microseconds: second + micros) }

    /// Header bytes of every class the writer treats differently: plain, each escape,
    /// every control byte, UTF-8 of two to four bytes, invalid UTF-8 (alone, cut at the
    /// end, between ASCII), empty, and lengths around the 4/8/16-byte steps of the check.
    private static let headerFields: [([UInt8], [UInt8])] = {
        var fields: [([UInt8], [UInt8])] = [
            (Array("Host".utf8), Array("example.com".utf8)),
            (Array("ETag".utf8), Array("\"5e1c-61f0a3b2\"".utf8)),
            (Array("X-Backslash".utf8), Array("C:\\path\\to".utf8)),
            (Array("X-Controls".utf8), Array("tab\there\r\nnul".utf8) + [0x00, 0x01, 0x1F, 0x7F]),
            (Array("X-UTF8".utf8), Array("café – 日本 😀".utf8)),
            (Array("X-Invalid".utf8), [0x63, 0x61, 0x66, 0xE9, 0x20, 0xFF, 0xFE, 0x22, 0xC3]),
            (Array("X-Cut".utf8), Array("abcdefghijklmnopq".utf8) + [0xE6, 0x97]),
            (Array("X-Empty".utf8), []),
            ([], Array("empty name".utf8)),
            (Array("x".utf8), Array("y".utf8)),
        ]
        for length in [1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 31, 32, 33] {
            let text = Array(String(repeating: "abcdefghij", count: 4).utf8.prefix(length))
            fields.append((Array("x-len-\(length)".utf8), text))
            var quoted = text
            quoted[length - 1] = 0x22
            fields.append((Array("x-last-\(length)".utf8), quoted))
            var high = text
            high[0] = 0x80
            fields.append((Array("x-first-\(length)".utf8), high))
        }
        return fields
    }()

    private static var headers: HTTPHeaders {
        var headers = HTTPHeaders()
        for (name, value) in headerFields {
            name.withUnsafeBufferPointer { name in value.withUnsafeBufferPointer { headers.add(name: name, value: $0) } }
        }
        return headers
    }

    private static var expectedHeaders: CaptureJSONValue {
        .array(headerFields.map { .array([.string(String(decoding: $0.0, as: UTF8.self)),
                                          .string(String(decoding: $0.1, as: UTF8.self))]) })
    }

    /// `UInt64.max` as the parser reads it back (integers beyond `Int64` become doubles).
    private static let maxU64Read = CaptureJSONValue.double(Double(UInt64.max))

    /// The corpus: every event type once, in the order a flow produces them (also what
    /// `CaptureFlowLinePrefixTests` checks the prefix reader on).
    static let events: [FlowEvent] = {
        let flow = FlowID(7), connection = ConnectionID(3)
        let tls = TLSDetails(version: "TLSv1.3", cipher: "TLS_AES_128_GCM_SHA256", serverName: "é.example", alpn: "h2",
                             peerCertificate: CertificateSummary(subject: "CN=\"quoted\"", issuer: "CN=CA",
                                                                 sha256Fingerprint: "ab:cd"))
        var timings = FlowTimings()
        timings.requestStart = t(999_999)
        timings.connectStart = t(1_000_000)
        timings.done = t(1_000_001)
        let close = WebSocketMessageRecord(fromClient: false, opcode: .close, payload: [0x0F, 0x41] + Array("done".utf8),
                                           wireBytes: 8, compressed: false)
        return [
            .connectionOpened(connection: connection, client: "127.0.0.1:5000", listener: "l\u{1}", time: t(0)),
            .connectionTLS(connection: connection, tls: tls, time: t(0)),
            .flowStarted(flow: flow, connection: connection, kind: .http, scheme: "https", authority: "h:443", time: t(1)),
            .http2Stream(flow: flow, streamID: UInt32.max, time: t(1)),
            .flowReplays(flow: flow, sourceFlow: FlowID(UInt64.max), time: t(1)),
            .requestHead(flow: flow, head: HTTPRequestHead(method: "PÖST", target: "/a?b=\"c\"", version: .http2,
                                                           headers: headers), time: t(999_999)),
            .requestBody(flow: flow, bytes: Array("hello".utf8)),
            .requestEnd(flow: flow, trailers: headers, bodyBytes: 0, time: t(1_000_000)),
            .upstreamConnected(flow: flow, server: "10.0.0.1:443", tls: nil, reused: true, time: t(1_000_000)),
            .responseHead(flow: flow, head: HTTPResponseHead(version: .http1_0, status: 599, reason: "Très \"bad\"",
                                                             headers: HTTPHeaders()), time: t(2_000_001)),
            .responseEnd(flow: flow, trailers: nil, bodyBytes: UInt64(Int64.max), time: t(2_000_001)),
            .http2Settings(connection: connection, fromClient: false,
                           settings: [HTTP2Setting(identifier: 1, value: 4096),
                                      HTTP2Setting(identifier: 0xFFFF, value: UInt32.max)], time: t(-1)),
            .http2StreamReset(flow: flow, fromClient: true, errorCode: 8, time: t(-1_000_001)),
            .http2GoAway(connection: connection, fromClient: false, lastStreamID: 0, errorCode: UInt32.max,
                         debugData: "bye\n", time: t(-1_000_001)),
            .webSocketMessage(flow: flow, message: close, time: t(3_000_000)),
            .flowEnded(flow: flow, timings: timings, bytesFromClient: 0, bytesFromServer: 1_234_567_890_123,
                       error: FlowError(.badResponse, "upstream said \"no\"\tthen closed"), time: t(3_000_000)),
            .connectionClosed(connection: connection, time: t(3_000_000), bytesReceived: 10, bytesSent: UInt64.max,
                              error: nil),
        ]
    }()

    /// The lines `events` make, as members in order: the HTTP/2 stream folds into
    /// `flowStarted`, and the request's body line comes before its `requestEnd`.
    private static let expectedLines: [[Member]] = {
        let u32 = CaptureJSONValue.integer(Int64(UInt32.max))
        func start(_ type: String, _ micros: Int64, flow: Bool = true) -> [Member] {
            [("t", .integer(second + micros)), ("type", .string(type))] + (flow ? [("flow", .integer(7))] : [])
        }
        return [
            start("connectionOpened", 0, flow: false)
                + [("conn", .integer(3)), ("client", .string("127.0.0.1:5000")), ("listener", .string("l\u{1}"))],
            start("connectionTLS", 0, flow: false) + [("conn", .integer(3)), ("tls", .object([
                ("version", .string("TLSv1.3")), ("cipher", .string("TLS_AES_128_GCM_SHA256")),
                ("sni", .string("é.example")), ("alpn", .string("h2")),
                ("peer", .object([("subject", .string("CN=\"quoted\"")), ("issuer", .string("CN=CA")),
                                  ("sha256", .string("ab:cd"))])),
            ]))],
            start("flowStarted", 1) + [("conn", .integer(3)), ("kind", .string("http")), ("scheme", .string("https")),
                                       ("authority", .string("h:443")), ("stream", u32)],
            start("flowReplays", 1) + [("sourceFlow", maxU64Read)],
            start("requestHead", 999_999) + [("method", .string("PÖST")), ("target", .string("/a?b=\"c\"")),
                                             ("version", .string("HTTP/2")), ("headers", expectedHeaders)],
            start("body", 1_000_000) + [("dir", .string("request")), ("seg", .integer(1)), ("off", .integer(0)),
                                        ("len", .integer(5))],
            start("requestEnd", 1_000_000) + [("trailers", expectedHeaders), ("bodyBytes", .integer(5)),
                                              ("capturedBytes", .integer(5)), ("truncated", .bool(false))],
            start("upstreamConnected", 1_000_000) + [("server", .string("10.0.0.1:443")), ("reused", .bool(true))],
            start("responseHead", 2_000_001) + [("status", .integer(599)), ("reason", .string("Très \"bad\"")),
                                                ("version", .string("HTTP/1.0")), ("headers", .array([]))],
            start("responseEnd", 2_000_001) + [("bodyBytes", .integer(Int64.max)), ("capturedBytes", .integer(0)),
                                               ("truncated", .bool(false))],
            start("http2Settings", -1, flow: false)
                + [("conn", .integer(3)), ("side", .string("upstream")),
                   ("settings", .array([.array([.integer(1), .integer(4096)]), .array([.integer(0xFFFF), u32])]))],
            start("http2StreamReset", -1_000_001) + [("side", .string("client")), ("errorCode", .integer(8))],
            start("http2GoAway", -1_000_001, flow: false)
                + [("conn", .integer(3)), ("side", .string("upstream")), ("lastStream", .integer(0)),
                   ("errorCode", u32), ("debug", .string("bye\n"))],
            start("wsMessage", 3_000_000)
                + [("dir", .string("server")), ("opcode", .string("close")), ("wireBytes", .integer(8)),
                   ("size", .integer(6)), ("compressed", .bool(false)), ("code", .integer(0x0F41)),
                   ("reason", .string("done")), ("text", .string("\u{F}Adone"))],
            start("flowEnded", 3_000_000)
                + [("timings", .object([("requestStart", .integer(second + 999_999)),
                                        ("connectStart", .integer(second + 1_000_000)),
                                        ("done", .integer(second + 1_000_001))])),
                   ("bytesFromClient", .integer(0)), ("bytesFromServer", .integer(1_234_567_890_123)),
                   ("error", .object([("kind", .string("bad-response")),
                                      ("message", .string("upstream said \"no\"\tthen closed"))]))],
            start("connectionClosed", 3_000_000, flow: false)
                + [("conn", .integer(3)), ("received", .integer(10)), ("sent", maxU64Read)],
        ]
    }()

    func test_every_event_type_is_written_byte_for_byte_and_read_back_member_for_member() throws {
        var encoder = CaptureEventEncoder(options: CaptureOptions(), nextSegmentNumber: { 1 })
        for event in Self.events { encoder.encode(event, now: Self.t(1_000_000)) }
        var spare = CaptureWriter.SpareBuffers()
        let batch = try XCTUnwrap(encoder.takeBatch(spare: &spare))
        let written = withExtendedLifetime(batch) { Array(batch.lines.bytes) }  // the storage owns the bytes
        XCTAssertEqual(written.last, UInt8(ascii: "\n"))
        let lines = written.split(separator: UInt8(ascii: "\n"))
        XCTAssertEqual(lines.count, Self.expectedLines.count)
        for (line, members) in zip(lines, Self.expectedLines) {
            let type = members[1].value
            let want = Self.reference(.object(members))
            XCTAssertEqual(String(decoding: line, as: UTF8.self), String(decoding: want, as: UTF8.self), "\(type)")
            XCTAssertEqual(Array(line), want, "\(type): bytes")
            guard case .object(let parsed) = try CaptureJSONParser.parse(Array(line)) else {
                XCTFail("\(type): not an object")
                continue
            }
            XCTAssertEqual(parsed.map(\.key), members.map(\.key), "\(type): members")
            for (got, expected) in zip(parsed, members) {
                XCTAssertEqual(got.value, expected.value, "\(type).\(expected.key)")
            }
        }
    }

    /// Lines whose fixed parts are written as runs, and flow ids as kept digits: ids of
    /// 1, 8, 16, 17 and 20 digits, each repeated and alternating (only ids of up to 16
    /// digits are kept), body lines of both directions, counts of a truncated body and
    /// of none, and all ten timings.
    func test_fixed_line_parts_and_repeated_flow_ids_are_written_byte_for_byte() throws {
        let ids: [UInt64] = [7, 7, 1_234_567_890_123_456, 1_234_567_890_123_456, UInt64.max, 1_234_567_890_123_456,
                             0, 0, 10, 9_999_999_999_999_999, 10_000_000_000_000_000, 10_000_000_000_000_000,
                             9_999_999_999_999_999, UInt64.max, UInt64.max, 12_345_678]
        func read(_ id: UInt64) -> CaptureJSONValue { id == UInt64.max ? Self.maxU64Read : .integer(Int64(id)) }
        func start(_ type: String, _ micros: Int64, flow: UInt64) -> [Member] {
            [("t", .integer(Self.second + micros)), ("type", .string(type)), ("flow", read(flow))]
        }
        var events: [FlowEvent] = ids.enumerated().map { index, id in
            .flowReplays(flow: FlowID(id), sourceFlow: FlowID(UInt64(index)), time: Self.t(Int64(index)))
        }
        var expected: [[Member]] = ids.enumerated().map { index, id in
            start("flowReplays", Int64(index), flow: id) + [("sourceFlow", .integer(Int64(index)))]
        }
        let cut = FlowID(UInt64.max), whole = FlowID(12_345_678)
        var timings = FlowTimings()
        let moments: [(String, WritableKeyPath<FlowTimings, Timestamp?>)] = [
            ("requestStart", \.requestStart), ("dnsStart", \.dnsStart), ("dnsEnd", \.dnsEnd),
            ("connectStart", \.connectStart), ("connectEnd", \.connectEnd), ("tlsStart", \.tlsStart),
            ("tlsEnd", \.tlsEnd), ("requestSent", \.requestSent), ("firstResponseByte", \.firstResponseByte),
            ("done", \.done)]
        for (index, moment) in moments.enumerated() { timings[keyPath: moment.1] = Self.t(Int64(index) * 999_999) }
        events += [
            .responseBody(flow: cut, bytes: Array("hello".utf8)),
            .responseEnd(flow: cut, trailers: nil, bodyBytes: 5, time: Self.t(20)),
            .requestBody(flow: whole, bytes: Array("hi".utf8)),
            .requestEnd(flow: whole, trailers: nil, bodyBytes: 0, time: Self.t(21)),
            .flowEnded(flow: whole, timings: timings, bytesFromClient: UInt64.max, bytesFromServer: 0, error: nil,
                       time: Self.t(22)),
        ]
        expected += [
            start("body", 30, flow: UInt64.max) + [("dir", .string("response")), ("seg", .integer(1)),
                                                  ("off", .integer(0)), ("len", .integer(3))],
            start("responseEnd", 20, flow: UInt64.max) + [("bodyBytes", .integer(5)), ("capturedBytes", .integer(3)),
                                                         ("truncated", .bool(true))],
            start("body", 30, flow: 12_345_678) + [("dir", .string("request")), ("seg", .integer(1)),
                                                  ("off", .integer(3)), ("len", .integer(2))],
            start("requestEnd", 21, flow: 12_345_678) + [("bodyBytes", .integer(2)), ("capturedBytes", .integer(2)),
                                                        ("truncated", .bool(false))],
            start("flowEnded", 22, flow: 12_345_678)
                + [("timings", .object(moments.enumerated().map { index, moment in
                    (moment.0, .integer(Self.second + Int64(index) * 999_999)) })),
                   ("bytesFromClient", Self.maxU64Read), ("bytesFromServer", .integer(0))],
        ]
        var encoder = CaptureEventEncoder(options: CaptureOptions(maxBodyBytes: 3), nextSegmentNumber: { 1 })
        for event in events { encoder.encode(event, now: Self.t(30)) }
        var spare = CaptureWriter.SpareBuffers()
        let batch = try XCTUnwrap(encoder.takeBatch(spare: &spare))
        let written = withExtendedLifetime(batch) { Array(batch.lines.bytes) }
        let lines = written.split(separator: UInt8(ascii: "\n"))
        XCTAssertEqual(written.last, UInt8(ascii: "\n"))
        XCTAssertEqual(lines.count, expected.count)
        for (line, members) in zip(lines, expected) {
            XCTAssertEqual(String(decoding: line, as: UTF8.self), String(decoding: Self.reference(.object(members)), as: UTF8.self))
        }
    }

    // MARK: The reference serializer (independent of JSONLineBuilder)

    /// `value` as the capture format writes it: no whitespace, members in order,
    /// integers in decimal, strings as `JSONLineBuilderTests.expectedQuoted` spells
    /// out (`\"`, `\\`, `\n`, `\r`, `\t`, `\u00xx` for other control bytes). The
    /// only double in the corpus is `UInt64.max` read back (`maxU64Read`), written
    /// as the integer it was.
    private static func reference(_ value: CaptureJSONValue) -> [UInt8] {
        switch value {
        case .null: return Array("null".utf8)
        case .bool(let flag): return Array((flag ? "true" : "false").utf8)
        case .integer(let number): return Array(String(number).utf8)
        case .double: return value == maxU64Read ? Array(String(UInt64.max).utf8) : Array("unexpected double".utf8)
        case .string(let text): return quoted(text)
        case .array(let elements):
            return [UInt8(ascii: "[")] + Array(elements.map(reference).joined(separator: [UInt8(ascii: ",")]))
                + [UInt8(ascii: "]")]
        case .object(let members):
            let written = members.map { quoted($0.key) + [UInt8(ascii: ":")] + reference($0.value) }
            return [UInt8(ascii: "{")] + Array(written.joined(separator: [UInt8(ascii: ",")])) + [UInt8(ascii: "}")]
        }
    }

    /// `text` quoted and escaped as the builder's byte-exact tests expect it.
    private static func quoted(_ text: String) -> [UInt8] { JSONLineBuilderTests.expectedQuoted(Array(text.utf8)) }
}
