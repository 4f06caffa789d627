import TaplineCapture
import TaplineFlow
import TaplineWire

/// One HAR entry, checked and converted, ready to become capture events
/// (`events(id:connection:)`). Used by `HARImporter` only.
struct ImportedFlow {
    var start: Timestamp
    var method: String
    var url: RequestURL
    var connection: UInt64 = 0
    var requestVersion = HTTPVersion.http1_1
    var requestHeaders = HTTPHeaders()
    var requestBody: [UInt8] = []
    var requestBodySize: Int64 = -1
    var status: Int?
    var reason = ""
    var responseVersion = HTTPVersion.http1_1
    var responseHeaders = HTTPHeaders()
    var responseBody: [UInt8] = []
    var responseBodySize: Int64 = -1
    var errorText: String?
    var server: String?
    var phases: (blocked: Double?, dns: Double?, connect: Double?, ssl: Double?, send: Double?, wait: Double?, receive: Double?)
        = (nil, nil, nil, nil, nil, nil, nil)
    var messages: [(record: WebSocketMessageRecord, time: Timestamp?)] = []
    var isWebSocket = false
    /// The entry's fields the events do not hold (`HARRecordedEntry.fields`), for the flow's `har` extension.
    var recorded = CaptureJSONValue.null

    init(start: Timestamp, method: String, url: RequestURL) {
        self.start = start
        self.method = method
        self.url = url
    }

    /// The flow's timings, the inverse of `HAREntryBuilder.timings`.
    var timings: FlowTimings {
        func after(_ time: Timestamp, _ milliseconds: Double) -> Timestamp {
            Timestamp(microseconds: time.microseconds + Int64((milliseconds * 1000).rounded()))
        }
        var t = FlowTimings()
        t.requestStart = start
        var cursor = after(start, phases.blocked ?? 0)
        if let dns = phases.dns {
            t.dnsStart = cursor
            cursor = after(cursor, dns)
            t.dnsEnd = cursor
        }
        if let connect = phases.connect {
            t.connectStart = cursor
            if let ssl = phases.ssl, ssl <= connect {
                t.connectEnd = after(cursor, connect - ssl)
                t.tlsStart = t.connectEnd
                t.tlsEnd = after(cursor, connect)
            } else {
                t.connectEnd = after(cursor, connect)
            }
            cursor = after(cursor, connect)
        }
        cursor = after(cursor, phases.send ?? 0)
        t.requestSent = cursor
        if let wait = phases.wait, status != nil {
            cursor = after(cursor, wait)
            t.firstResponseByte = cursor
        }
        t.done = after(cursor, phases.receive ?? 0)
        return t
    }

    var end: Timestamp { timings.done ?? start }

    var scheme: String { url.scheme == "wss" || url.scheme == "https" ? "https" : "http" }

    /// The capture events of this flow, in order.
    func events(id: FlowID, connection: ConnectionID) -> [FlowEvent] {
        let t = timings
        let port = url.port ?? RequestURL.defaultPort(url.scheme) ?? 80
        var events: [FlowEvent] = [
            .flowStarted(flow: id, connection: connection, kind: isWebSocket ? .websocket : .http, scheme: scheme,
                         authority: "\(url.host):\(port)", time: start),
            .requestHead(flow: id, head: HTTPRequestHead(method: method, target: url.path + (url.rawQuery.map { "?" + $0 } ?? ""),
                                                         version: requestVersion, headers: requestHeaders), time: start),
        ]
        events.append(contentsOf: Self.chunks(requestBody).map { .requestBody(flow: id, bytes: $0) })
        events.append(.requestEnd(flow: id, trailers: nil, bodyBytes: UInt64(max(requestBodySize, 0)), time: t.requestSent ?? start))
        if let server {
            events.append(.upstreamConnected(flow: id, server: server, tls: nil, reused: t.connectStart == nil,
                                             time: t.connectEnd ?? start))
        }
        var error: FlowError?
        if let status {
            let time = t.firstResponseByte ?? t.requestSent ?? start
            events.append(.responseHead(flow: id, head: HTTPResponseHead(version: responseVersion, status: status,
                                                                         reason: reason, headers: responseHeaders), time: time))
            events.append(contentsOf: Self.chunks(responseBody).map { .responseBody(flow: id, bytes: $0) })
            for message in messages {
                events.append(.webSocketMessage(flow: id, message: message.record, time: message.time ?? time))
            }
            events.append(.responseEnd(flow: id, trailers: nil, bodyBytes: UInt64(max(responseBodySize, 0)), time: t.done ?? time))
            if let errorText, !errorText.isEmpty { error = Self.error(errorText, default: .badResponse) }
        } else {
            error = Self.error(errorText ?? "the HAR records no response", default: .upstreamUnreachable)
        }
        events.append(.flowEnded(flow: id, timings: t, bytesFromClient: UInt64(requestBody.count),
                                 bytesFromServer: UInt64(responseBody.count), error: error, time: t.done ?? start))
        return events
    }

    /// `upstream-timeout: message` (as Tapline's HAR export writes `_error`) keeps its kind;
    /// other text (`net::ERR_...`) gets `fallback`.
    static func error(_ text: String, default fallback: FlowErrorKind) -> FlowError {
        if let colon = text.range(of: ": "), let kind = FlowErrorKind(rawValue: String(text[..<colon.lowerBound])) {
            return FlowError(kind, String(text[colon.upperBound...]))
        }
        return FlowError(fallback, text)
    }

    static func chunks(_ bytes: [UInt8]) -> [[UInt8]] {
        stride(from: 0, to: bytes.count, by: 1 << 20).map { Array(bytes[$0..<min($0 + (1 << 20), bytes.count)]) }
    }
}
