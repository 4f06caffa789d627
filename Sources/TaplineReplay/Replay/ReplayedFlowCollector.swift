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
    /// A flow being replayed: what was recorded of it so far. A reference, so that an
    /// event changes the flow in place (a dictionary's value would be copied out and back).
    private final class Entry {
        var flow: CapturedFlow
        let responseBody: ReplayedResponseBody
        /// Streamed WebSocket payload pieces per direction since the last message (two
        /// fields, not a list of two: an empty array allocates nothing, and most flows are not WebSockets).
        var streamedClientPayload: [UInt8] = []
        var streamedServerPayload: [UInt8] = []

        init(flow: CapturedFlow, responseBody: ReplayedResponseBody) {
            self.flow = flow
            self.responseBody = responseBody
        }

        /// Moves the flow out, leaving an empty one in its place (the entry is let go of
        /// next): a copy would retain every field, and the entry's flow release them again.
        func takeFlow() -> CapturedFlow {
            var taken = CapturedFlow(id: flow.id, connection: flow.connection, kind: .http, scheme: "", authority: "",
                                     started: flow.started, sessionDirectory: "")
            swap(&taken, &flow)
            return taken
        }
    }

    private let inner: any FlowEventSink
    private let sessionDirectory: String
    private let limit: Int
    private var entries: [FlowID: Entry] = [:]
    /// The entry an event last went to: a flow's events come in runs (its start, its
    /// request, its response), so most find it here without hashing the id.
    private var recent: (id: FlowID, entry: Entry)?
    /// The source's segment files, open once for every response matched against them (`closeSourceFiles`).
    private let sourceFiles = CaptureSegmentFiles()

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
        let entry = Entry(flow: CapturedFlow(id: flow, connection: ConnectionID(0), kind: .http, scheme: source.scheme,
                                             authority: source.authority, started: Timestamp.now(),
                                             sessionDirectory: sessionDirectory),
                          responseBody: ReplayedResponseBody(source: source.responseBody, limit: limit,
                                                             sourceFiles: sourceFiles))
        entries[flow] = entry
        recent = (flow, entry)  // its `flowStarted` comes next
    }

    /// Closes the source's segment files (the replay is over).
    func closeSourceFiles() {
        sourceFiles.closeAll()
    }

    /// The flow as recorded, and its response body as matched; it is no longer tracked.
    func take(_ flow: FlowID) -> (flow: CapturedFlow, responseBody: ReplayedResponseBody)? {
        if recent?.id == flow { recent = nil }
        guard let entry = entries.removeValue(forKey: flow) else { return nil }
        return (entry.takeFlow(), entry.responseBody)
    }

    /// The entry of a tracked flow.
    private func entry(_ flow: FlowID) -> Entry? {
        if let recent, recent.id == flow { return recent.entry }
        guard let entry = entries[flow] else { return nil }
        recent = (flow, entry)
        return entry
    }

    // MARK: FlowEventSink

    var bufferedBytes: Int { inner.bufferedBytes }

    func flush() { inner.flush() }

    func recordBody(flow: FlowID, isRequest: Bool, bytes: ArraySlice<UInt8>, time: Timestamp) {
        inner.recordBody(flow: flow, isRequest: isRequest, bytes: bytes, time: time)
        guard let entry = entry(flow) else { return }
        if isRequest {
            entry.flow.requestBody.capturedBytes += UInt64(bytes.count)
        } else {
            entry.responseBody.append(bytes)
            entry.flow.responseBody.capturedBytes += UInt64(bytes.count)
        }
    }

    func record(_ event: FlowEvent) {
        inner.record(event)
        guard let id = event.flow, let entry = entry(id) else { return }
        apply(event, to: entry)
    }

    /// What `CapturedSessionAssembler` does with the event's line, without the line.
    private func apply(_ event: FlowEvent, to entry: Entry) {
        switch event {
        case .flowStarted(_, let connection, let kind, let scheme, let authority, let time):
            entry.flow.connection = connection
            entry.flow.kind = kind
            entry.flow.scheme = scheme
            entry.flow.authority = authority
            entry.flow.started = time
        case .flowReplays(_, let source, _):
            entry.flow.sourceFlow = source
        case .requestHead(_, let head, let time):
            entry.flow.request = head
            entry.flow.requestTime = time
        case .requestBody(_, let bytes):
            entry.flow.requestBody.capturedBytes += UInt64(bytes.count)
        case .requestEnd(_, let trailers, let bodyBytes, _):
            entry.flow.requestTrailers = trailers
            entry.flow.requestBody.isComplete = true
            entry.flow.requestBody.bodyBytes = bodyBytes
        case .upstreamConnected(_, let server, let tls, let reused, _):
            entry.flow.serverAddress = server
            entry.flow.upstreamTLS = tls
            entry.flow.upstreamReused = reused
        case .responseHead(_, let head, let time):
            if head.isInterim {
                entry.flow.interimResponses.append(head)
            } else {
                entry.flow.response = head
                entry.flow.responseTime = time
                if let request = entry.flow.request, WebSocketHandshake.opensWebSocket(request: request, response: head) {
                    entry.flow.kind = .websocket
                }
            }
        case .responseBody(_, let bytes):
            entry.responseBody.append(bytes[...])
            entry.flow.responseBody.capturedBytes += UInt64(bytes.count)
        case .responseEnd(_, let trailers, let bodyBytes, _):
            entry.flow.responseTrailers = trailers
            entry.flow.responseBody.isComplete = true
            entry.flow.responseBody.bodyBytes = bodyBytes
        case .http2Stream(_, let stream, _):
            entry.flow.http2StreamID = stream
        case .http2StreamReset(_, let fromClient, let code, let time):
            entry.flow.http2Resets.append(CapturedHTTP2Reset(fromClient: fromClient, errorCode: code, time: time))
        case .webSocketPayload(_, let fromClient, let bytes):
            if fromClient {
                entry.streamedClientPayload += bytes.prefix(max(0, limit - entry.streamedClientPayload.count))
            } else {
                entry.streamedServerPayload += bytes.prefix(max(0, limit - entry.streamedServerPayload.count))
            }
        case .webSocketMessage(_, let message, let time):
            let streamed = message.fromClient ? entry.streamedClientPayload : entry.streamedServerPayload
            let payload = message.streamedPayloadSize == nil ? Array(message.payload.prefix(limit)) : streamed
            if message.fromClient { entry.streamedClientPayload = [] } else { entry.streamedServerPayload = [] }
            entry.flow.kind = .websocket
            entry.flow.webSocketMessages.append(Self.capturedMessage(message, payload: payload, time: time))
        case .flowEnded(_, let timings, let fromClient, let fromServer, let error, let time):
            entry.flow.timings = timings
            entry.flow.ended = time
            entry.flow.bytesFromClient = fromClient
            entry.flow.bytesFromServer = fromServer
            entry.flow.error = error.map { RecordedError(kind: $0.kind.rawValue, message: $0.message) }
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
