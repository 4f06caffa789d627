import Foundation
import TaplineFlow
import TaplineWire

/// Builds flows and connections from events.jsonl lines, one line at a time,
/// collecting warnings instead of failing (the tolerant half of format v1).
/// Used only inside `CapturedSession.open`, on the caller's thread.
struct CapturedSessionAssembler {
    let directory: String
    private var flows: [UInt64: CapturedFlow] = [:]
    private var connections: [UInt64: CapturedConnection] = [:]
    private var warnings: [String] = []
    private var suppressedWarnings = 0
    private var unknownTypes: [String: Int] = [:]
    private var unknownTypeOrder: [String] = []

    static let warningLimit = 50

    init(directory: String) {
        self.directory = directory
    }

    mutating func warn(_ message: String) {
        if warnings.count < Self.warningLimit {
            warnings.append(message)
        } else {
            suppressedWarnings += 1
        }
    }

    /// A damaged line: a warning naming the line, nothing applied.
    private mutating func skip(_ number: Int, _ reason: String) {
        warn("events.jsonl:\(number): \(reason); line skipped")
    }

    mutating func apply(line: ArraySlice<UInt8>, number: Int) {
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return }
        guard let parsed = try? JSONSerialization.jsonObject(with: Data(line)),
              let raw = parsed as? [String: Any] else {
            return skip(number, "not a JSON object (corrupt line)")
        }
        let json = CaptureJSONObject(raw)
        guard let type = json.string("type") else { return skip(number, "no \"type\"") }
        guard let micros = json.int64("t") else { return skip(number, "no timestamp \"t\"") }
        let time = Timestamp(microseconds: micros)

        switch type {
        case "connectionOpened":
            guard let id = json.uint64("conn") else { return skip(number, "connectionOpened without \"conn\"") }
            connections[id] = CapturedConnection(id: ConnectionID(id), client: json.string("client") ?? "?",
                                                 listener: json.string("listener") ?? "?", opened: time)
        case "connectionTLS":
            guard let id = json.uint64("conn"), let tls = json.object("tls").flatMap(Self.tls) else {
                return skip(number, "connectionTLS without \"conn\" or a valid \"tls\"")
            }
            guard connections[id] != nil else { return skip(number, "connection \(id) was never opened") }
            connections[id]?.tls = tls
        case "connectionClosed":
            guard let id = json.uint64("conn") else { return skip(number, "connectionClosed without \"conn\"") }
            guard connections[id] != nil else { return skip(number, "connection \(id) was never opened") }
            connections[id]?.closed = time
            connections[id]?.bytesReceived = json.uint64("received") ?? 0
            connections[id]?.bytesSent = json.uint64("sent") ?? 0
            connections[id]?.error = json.object("error").flatMap(Self.error)
        case "flowStarted":
            guard let id = json.uint64("flow"), let connection = json.uint64("conn") else {
                return skip(number, "flowStarted without \"flow\" or \"conn\"")
            }
            let kindName = json.string("kind") ?? "http"
            var kind = FlowKind(rawValue: kindName) ?? .http
            if FlowKind(rawValue: kindName) == nil {
                warn("events.jsonl:\(number): flow \(id) has unknown kind \(kindName.debugDescription); shown as http")
                kind = .http
            }
            flows[id] = CapturedFlow(id: FlowID(id), connection: ConnectionID(connection), kind: kind,
                                     scheme: json.string("scheme") ?? "http", authority: json.string("authority") ?? "",
                                     started: time, sessionDirectory: directory)
        case "requestHead":
            guard let id = flowID(json, number) else { return }
            guard let method = json.string("method"), let target = json.string("target"),
                  let headers = json.array("headers").flatMap(Self.headers) else {
                return skip(number, "requestHead without method, target or headers")
            }
            flows[id]?.request = HTTPRequestHead(method: method, target: target,
                                                 version: Self.version(json.string("version")), headers: headers)
            flows[id]?.requestTime = time
        case "body":
            guard let id = flowID(json, number) else { return }
            guard let direction = json.string("dir").flatMap(BodyDirection.init(rawValue:)),
                  let segment = json.int64("seg"), segment >= 1, segment <= 999_999,
                  let offset = json.uint64("off"), let length = json.uint64("len") else {
                return skip(number, "body without a valid dir, seg, off or len")
            }
            let extent = BodyExtent(segment: Int(segment), offset: offset, length: length)
            if direction == .request {
                flows[id]?.requestBody.extents.append(extent)
                flows[id]?.requestBody.capturedBytes += length
            } else {
                flows[id]?.responseBody.extents.append(extent)
                flows[id]?.responseBody.capturedBytes += length
            }
        case "requestEnd", "responseEnd":
            guard let id = flowID(json, number) else { return }
            let trailers = json.array("trailers").flatMap(Self.headers)
            let isRequest = type == "requestEnd"
            guard let flow = flows[id] else { return }
            var body = isRequest ? flow.requestBody : flow.responseBody
            body.isComplete = true
            body.bodyBytes = json.uint64("bodyBytes") ?? body.capturedBytes
            body.truncated = json.bool("truncated") ?? false
            if let captured = json.uint64("capturedBytes"), captured != body.capturedBytes {
                warn("events.jsonl:\(number): flow \(id) \(isRequest ? "request" : "response") body has \(body.capturedBytes) bytes stored but its end says \(captured)")
            }
            if isRequest {
                flows[id]?.requestBody = body
                flows[id]?.requestTrailers = trailers
            } else {
                flows[id]?.responseBody = body
                flows[id]?.responseTrailers = trailers
            }
        case "upstreamConnected":
            guard let id = flowID(json, number) else { return }
            flows[id]?.serverAddress = json.string("server")
            flows[id]?.upstreamReused = json.bool("reused") ?? false
            flows[id]?.upstreamTLS = json.object("tls").flatMap(Self.tls)
        case "responseHead":
            guard let id = flowID(json, number) else { return }
            guard let status = json.int64("status"), status >= 0, status < 1000,
                  let headers = json.array("headers").flatMap(Self.headers) else {
                return skip(number, "responseHead without status or headers")
            }
            let head = HTTPResponseHead(version: Self.version(json.string("version")), status: Int(status),
                                        reason: json.string("reason") ?? "", headers: headers)
            if head.isInterim {
                flows[id]?.interimResponses.append(head)
            } else {
                flows[id]?.response = head
                flows[id]?.responseTime = time
                // Flows start as http; a 101 to a WebSocket upgrade (or a 2xx / bridged 101
                // to an HTTP/2 extended CONNECT for WebSocket) makes them websocket.
                if let request = flows[id]?.request, WebSocketHandshake.opensWebSocket(request: request, response: head) {
                    flows[id]?.kind = .websocket
                }
            }
        case "wsMessage":
            guard let id = flowID(json, number) else { return }
            guard let message = Self.webSocketMessage(json, time: time) else {
                return skip(number, "wsMessage without a valid dir, opcode, sizes or payload")
            }
            flows[id]?.kind = .websocket
            flows[id]?.webSocketMessages.append(message)
        case "flowEnded":
            guard let id = flowID(json, number) else { return }
            var timings = FlowTimings()
            if let object = json.object("timings") {
                for name in FlowTimingsCoding.names {
                    if let value = object.int64(name) {
                        FlowTimingsCoding.set(name, Timestamp(microseconds: value), in: &timings)
                    }
                }
            }
            flows[id]?.timings = timings
            flows[id]?.ended = time
            flows[id]?.bytesFromClient = json.uint64("bytesFromClient") ?? 0
            flows[id]?.bytesFromServer = json.uint64("bytesFromServer") ?? 0
            flows[id]?.error = json.object("error").flatMap(Self.error)
        case "http2Stream":
            guard let id = flowID(json, number) else { return }
            guard let stream = json.uint64("stream"), stream <= UInt64(UInt32.max) else {
                return skip(number, "http2Stream without a valid \"stream\"")
            }
            flows[id]?.http2StreamID = UInt32(stream)
        case "http2StreamReset":
            guard let id = flowID(json, number) else { return }
            guard let code = json.uint64("errorCode"), code <= UInt64(UInt32.max) else {
                return skip(number, "http2StreamReset without a valid \"errorCode\"")
            }
            flows[id]?.http2Resets.append(CapturedHTTP2Reset(fromClient: json.string("side") == "client",
                                                             errorCode: UInt32(code), time: time))
        case "http2Settings":
            guard let id = json.uint64("conn"), let array = json.array("settings") else {
                return skip(number, "http2Settings without \"conn\" or \"settings\"")
            }
            guard connections[id] != nil else { return skip(number, "connection \(id) was never opened") }
            var settings: [HTTP2Setting] = []
            for element in array {
                guard let pair = element as? [Any], pair.count == 2,
                      let identifier = (pair[0] as? NSNumber)?.uint16Value, let value = (pair[1] as? NSNumber)?.uint32Value
                else { return skip(number, "http2Settings with a malformed parameter") }
                settings.append(HTTP2Setting(identifier: identifier, value: value))
            }
            connections[id]?.http2Settings.append(CapturedHTTP2Settings(fromClient: json.string("side") == "client",
                                                                        settings: settings, time: time))
        case "http2GoAway":
            guard let id = json.uint64("conn"), let code = json.uint64("errorCode"), code <= UInt64(UInt32.max) else {
                return skip(number, "http2GoAway without \"conn\" or a valid \"errorCode\"")
            }
            guard connections[id] != nil else { return skip(number, "connection \(id) was never opened") }
            let last = min(json.uint64("lastStream") ?? 0, UInt64(UInt32.max))
            connections[id]?.http2GoAways.append(CapturedHTTP2GoAway(
                fromClient: json.string("side") == "client", lastStreamID: UInt32(last), errorCode: UInt32(code),
                debugData: json.string("debug") ?? "", time: time))
        case "writer-error":
            warn("events.jsonl:\(number): the writer hit an error and stopped: \(json.string("message") ?? "unknown")")
        default:
            if unknownTypes[type] == nil { unknownTypeOrder.append(type) }
            unknownTypes[type, default: 0] += 1
        }
    }

    /// The flow id of a per-flow event whose flow exists; warns and returns nil otherwise.
    private mutating func flowID(_ json: CaptureJSONObject, _ number: Int) -> UInt64? {
        guard let id = json.uint64("flow") else {
            skip(number, "\(json.string("type") ?? "event") without \"flow\"")
            return nil
        }
        guard flows[id] != nil else {
            skip(number, "flow \(id) was never started")
            return nil
        }
        return id
    }

    mutating func finish(metadata: SessionMetadata) -> CapturedSession {
        for type in unknownTypeOrder {
            let count = unknownTypes[type] ?? 0
            warn("events.jsonl: skipped \(count) event\(count == 1 ? "" : "s") of unknown type \(type.debugDescription) (written by a newer tapline?)")
        }
        if suppressedWarnings > 0 {
            warnings.append("... and \(suppressedWarnings) more warnings")
        }
        var assembled = flows.values.sorted { $0.id < $1.id }
        for index in assembled.indices {
            if let connection = connections[assembled[index].connection.rawValue] {
                assembled[index].clientAddress = connection.client
                assembled[index].clientTLS = connection.tls
            }
        }
        return CapturedSession(directory: directory, metadata: metadata, flows: assembled,
                               connections: connections.values.sorted { $0.id < $1.id }, warnings: warnings)
    }

    // MARK: - Field decoding

    static func headers(_ array: [Any]) -> HTTPHeaders? {
        var fields: [HTTPHeaders.Field] = []
        fields.reserveCapacity(array.count)
        for element in array {
            guard let pair = element as? [Any], pair.count == 2,
                  let name = pair[0] as? String, let value = pair[1] as? String else { return nil }
            fields.append((name, value))
        }
        return HTTPHeaders(fields)
    }

    static func tls(_ json: CaptureJSONObject) -> TLSDetails? {
        guard let version = json.string("version"), let cipher = json.string("cipher") else { return nil }
        var peer: CertificateSummary?
        if let object = json.object("peer") {
            peer = CertificateSummary(subject: object.string("subject") ?? "", issuer: object.string("issuer") ?? "",
                                      sha256Fingerprint: object.string("sha256") ?? "")
        }
        return TLSDetails(version: version, cipher: cipher, serverName: json.string("sni"),
                          alpn: json.string("alpn"), peerCertificate: peer)
    }

    static func webSocketMessage(_ json: CaptureJSONObject, time: Timestamp) -> CapturedWebSocketMessage? {
        guard let direction = json.string("dir"), direction == "client" || direction == "server",
              let opcode = json.string("opcode"), let wireBytes = json.uint64("wireBytes"),
              let size = json.uint64("size") else { return nil }
        var message = CapturedWebSocketMessage(time: time, fromClient: direction == "client", opcode: opcode,
                                               wireBytes: wireBytes, size: size, compressed: json.bool("compressed") ?? false,
                                               truncated: json.bool("truncated") ?? false)
        if let code = json.int64("code") {
            message.closeCode = Int(code)
            message.closeReason = json.string("reason") ?? ""
        }
        if let text = json.string("text") {
            message.inlinePayload = Array(text.utf8)
        } else if let encoded = json.string("base64") {
            guard let bytes = Base64.decode(encoded) else { return nil }
            message.inlinePayload = bytes
        } else if let segment = json.int64("seg"), segment >= 1, segment <= 999_999,
                  let offset = json.uint64("off"), let length = json.uint64("len") {
            message.extent = BodyExtent(segment: Int(segment), offset: offset, length: length)
        } else {
            return nil
        }
        return message
    }

    static func error(_ json: CaptureJSONObject) -> RecordedError? {
        guard let kind = json.string("kind") else { return nil }
        return RecordedError(kind: kind, message: json.string("message") ?? "")
    }

    /// `HTTP/1.1` -> 1.1, `HTTP/2` -> 2.0; anything else reads as HTTP/1.1.
    static func version(_ text: String?) -> HTTPVersion {
        guard let text, text.hasPrefix("HTTP/") else { return .http1_1 }
        let numbers = text.dropFirst(5).split(separator: ".")
        guard let major = numbers.first.flatMap({ Int($0) }) else { return .http1_1 }
        let minor = numbers.count > 1 ? Int(numbers[1]) ?? 0 : 0
        return HTTPVersion(major: major, minor: minor)
    }
}
