import TaplineCapture
import TaplineFlow
import TaplineWire

/// The replay's `FlowEventSink`: passes every event on to the replay session's sink
/// (`inner`) and, beside it, assembles each replayed flow as `CapturedSession.open`
/// would read it back from that session (heads, trailers, timings, error, WebSocket
/// messages), so that the flow is compared with its source the moment it ends
/// (`take`) and the written session is never read again.
///
/// Bodies are not kept: the response body is matched against the source's as it
/// arrives (`ReplayedResponseBody`), and WebSocket payloads are kept up to `limit`
/// bytes a message (the diff's `bodyLimit`), only for the flow's lifetime.
///
/// Invariant: a flow is tracked from `expect` until `take`; events of other flows
/// (none, in a replay) are only passed on.
///
/// Thread ownership: confined to the replay's loop, like the sink it wraps.
final class ReplayedFlowCollector: FlowEventSink {
    /// A flow being replayed: what was recorded of it so far.
    private struct Entry {
        var flow: CapturedFlow
        let responseBody: ReplayedResponseBody
        /// Streamed WebSocket payload pieces per direction (client, server) since the last message.
        var streamedPayload: [[UInt8]] = [[], []]
    }

    private let inner: any FlowEventSink
    private let sessionDirectory: String
    private let limit: Int
    private var entries: [FlowID: Entry] = [:]

    /// - Parameters:
    ///   - sessionDirectory: where the replay session is written (what its flows' bodies name).
    ///   - limit: most bytes of one body or message kept for comparison (`SessionDiffOptions.bodyLimit`).
    init(inner: any FlowEventSink, sessionDirectory: String, limit: Int) {
        self.inner = inner
        self.sessionDirectory = sessionDirectory
        self.limit = limit
    }

    /// Starts tracking `flow`, the replay of `source`; call before its `flowStarted` is recorded.
    func expect(_ flow: FlowID, source: CapturedFlow) {
        entries[flow] = Entry(flow: CapturedFlow(id: flow, connection: ConnectionID(0), kind: .http, scheme: source.scheme,
                                                 authority: source.authority, started: Timestamp.now(),
                                                 sessionDirectory: sessionDirectory),
                              responseBody: ReplayedResponseBody(source: source.responseBody, limit: limit))
    }

    /// The flow as recorded, and its response body as matched; it is no longer tracked.
    func take(_ flow: FlowID) -> (flow: CapturedFlow, responseBody: ReplayedResponseBody)? {
        guard let entry = entries.removeValue(forKey: flow) else { return nil }
        return (entry.flow, entry.responseBody)
    }

    // MARK: FlowEventSink

    var bufferedBytes: Int { inner.bufferedBytes }

    func flush() { inner.flush() }

    func recordBody(flow: FlowID, isRequest: Bool, bytes: ArraySlice<UInt8>, time: Timestamp) {
        inner.recordBody(flow: flow, isRequest: isRequest, bytes: bytes, time: time)
        guard let entry = entries[flow] else { return }
        if isRequest {
            entries[flow]?.flow.requestBody.capturedBytes += UInt64(bytes.count)
        } else {
            entry.responseBody.append(bytes)
            entries[flow]?.flow.responseBody.capturedBytes += UInt64(bytes.count)
        }
    }

    func record(_ event: FlowEvent) {
        inner.record(event)
        guard let id = event.flow, entries[id] != nil else { return }
        apply(event, to: id)
    }

    /// What `CapturedSessionAssembler` does with the event's line, without the line.
    private func apply(_ event: FlowEvent, to id: FlowID) {
        switch event {
        case .flowStarted(_, let connection, let kind, let scheme, let authority, let time):
            entries[id]?.flow.connection = connection
            entries[id]?.flow.kind = kind
            entries[id]?.flow.scheme = scheme
            entries[id]?.flow.authority = authority
            entries[id]?.flow.started = time
        case .flowReplays(_, let source, _):
            entries[id]?.flow.sourceFlow = source
        case .requestHead(_, let head, let time):
            entries[id]?.flow.request = head
            entries[id]?.flow.requestTime = time
        case .requestBody(_, let bytes):
            entries[id]?.flow.requestBody.capturedBytes += UInt64(bytes.count)
        case .requestEnd(_, let trailers, let bodyBytes, _):
            entries[id]?.flow.requestTrailers = trailers
            entries[id]?.flow.requestBody.isComplete = true
            entries[id]?.flow.requestBody.bodyBytes = bodyBytes
        case .upstreamConnected(_, let server, let tls, let reused, _):
            entries[id]?.flow.serverAddress = server
            entries[id]?.flow.upstreamTLS = tls
            entries[id]?.flow.upstreamReused = reused
        case .responseHead(_, let head, let time):
            if head.isInterim {
                entries[id]?.flow.interimResponses.append(head)
            } else {
                entries[id]?.flow.response = head
                entries[id]?.flow.responseTime = time
                if let request = entries[id]?.flow.request, WebSocketHandshake.opensWebSocket(request: request, response: head) {
                    entries[id]?.flow.kind = .websocket
                }
            }
        case .responseBody(_, let bytes):
            entries[id]?.responseBody.append(bytes[...])
            entries[id]?.flow.responseBody.capturedBytes += UInt64(bytes.count)
        case .responseEnd(_, let trailers, let bodyBytes, _):
            entries[id]?.flow.responseTrailers = trailers
            entries[id]?.flow.responseBody.isComplete = true
            entries[id]?.flow.responseBody.bodyBytes = bodyBytes
        case .http2Stream(_, let stream, _):
            entries[id]?.flow.http2StreamID = stream
        case .http2StreamReset(_, let fromClient, let code, let time):
            entries[id]?.flow.http2Resets.append(CapturedHTTP2Reset(fromClient: fromClient, errorCode: code, time: time))
        case .webSocketPayload(_, let fromClient, let bytes):
            let side = fromClient ? 0 : 1
            let held = entries[id]?.streamedPayload[side].count ?? 0
            entries[id]?.streamedPayload[side] += bytes.prefix(max(0, limit - held))
        case .webSocketMessage(_, let message, let time):
            let side = message.fromClient ? 0 : 1
            let payload = message.streamedPayloadSize == nil ? Array(message.payload.prefix(limit))
                : entries[id]?.streamedPayload[side] ?? []
            entries[id]?.streamedPayload[side] = []
            entries[id]?.flow.kind = .websocket
            entries[id]?.flow.webSocketMessages.append(Self.capturedMessage(message, payload: payload, time: time))
        case .flowEnded(_, let timings, let fromClient, let fromServer, let error, let time):
            entries[id]?.flow.timings = timings
            entries[id]?.flow.ended = time
            entries[id]?.flow.bytesFromClient = fromClient
            entries[id]?.flow.bytesFromServer = fromServer
            entries[id]?.flow.error = error.map { RecordedError(kind: $0.kind.rawValue, message: $0.message) }
        case .connectionOpened, .connectionTLS, .connectionClosed, .http2Settings, .http2GoAway:
            break
        }
    }

    /// A message as the capture reads it back (`wsMessage` line), its payload held inline.
    private static func capturedMessage(_ message: WebSocketMessageRecord, payload: [UInt8],
                                        time: Timestamp) -> CapturedWebSocketMessage {
        let undecoded = message.undecodedCompressedSize != nil
        var captured = CapturedWebSocketMessage(
            time: time, fromClient: message.fromClient, opcode: message.opcode.rawValue, wireBytes: message.wireBytes,
            size: message.size, compressed: message.compressed, inlinePayload: payload,
            truncated: (message.streamedPayloadSize == nil && UInt64(message.payload.count) < message.size)
                || message.decodingCapped || undecoded,
            decodingCapped: message.decodingCapped, undecoded: undecoded,
            capSize: message.decodingCapped ? message.capSize : nil)
        if message.opcode == .close, message.payload.count >= 2 {
            captured.closeCode = Int(message.payload[0]) << 8 | Int(message.payload[1])
            captured.closeReason = String(decoding: message.payload[2...], as: UTF8.self)
        }
        return captured
    }
}
