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
/// Invariant: a flow is tracked from `expect` until `take`. Its exchange records its
/// events with the entry `expect` handed out (`record(_:into:)`, `recordBody(...into:)`);
/// an event recorded by id (`FlowEventSink.record`) reaches a flow only when it was
/// expected `byID` (a WebSocket's, whose messages `ReplayWebSocket` records by id). Other
/// events, and those of a taken flow, are only passed on.
///
/// Memory: one `ReplayedFlowEntry` a flow in flight; the id table holds only the WebSocket flows in flight.
///
/// Thread ownership: confined to the replay's loop, like the sink it wraps.
final class ReplayedFlowCollector: FlowEventSink {
    private let inner: any FlowEventSink
    private let sessionDirectory: String
    private let limit: Int
    /// The entries expected `byID`, by their flow's id, until taken.
    private var entriesByID: [FlowID: ReplayedFlowEntry] = [:]
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

    /// Starts tracking `flow`, the replay of `source`; call before its `flowStarted` is
    /// recorded. `byID`: events recorded by the flow's id (`record(_:)`) reach it too.
    /// `storedResponseBody`: the source's whole stored response body, if it was read already.
    func expect(_ flow: FlowID, source: CapturedFlow, storedResponseBody: [UInt8]? = nil, byID: Bool = false) -> ReplayedFlowEntry {
        let entry = ReplayedFlowEntry(
            flow: CapturedFlow(id: flow, connection: ConnectionID(0), kind: .http, scheme: source.scheme,
                               authority: source.authority, started: Timestamp.now(), sessionDirectory: sessionDirectory),
            responseBody: ReplayedResponseBody(source: source.responseBody, limit: limit, sourceFiles: sourceFiles,
                                               stored: storedResponseBody),
            isFoundByID: byID)
        if byID { entriesByID[flow] = entry }
        return entry
    }

    /// Closes the source's segment files (the replay is over).
    func closeSourceFiles() {
        sourceFiles.closeAll()
    }

    /// The flow as recorded, and its response body as matched; it is no longer tracked
    /// (nil when it was taken already).
    func take(_ entry: ReplayedFlowEntry) -> (flow: CapturedFlow, responseBody: ReplayedResponseBody)? {
        if entry.isFoundByID, entry.isTracked { entriesByID.removeValue(forKey: entry.flow.id) }
        return entry.take()
    }

    /// Records `event` of the flow `entry` tracks: passes it on and applies it to the flow.
    func record(_ event: FlowEvent, into entry: ReplayedFlowEntry) {
        inner.record(event)
        guard entry.isTracked else { return }
        apply(event, to: entry)
    }

    /// Records body bytes of the flow `entry` tracks (as `recordBody(flow:...)`).
    func recordBody(flow: FlowID, isRequest: Bool, bytes: ArraySlice<UInt8>, time: Timestamp,
                    into entry: ReplayedFlowEntry) {
        inner.recordBody(flow: flow, isRequest: isRequest, bytes: bytes, time: time)
        guard entry.isTracked else { return }
        applyBody(isRequest: isRequest, bytes: bytes, to: entry)
    }

    // MARK: FlowEventSink

    var bufferedBytes: Int { inner.bufferedBytes }

    func flush() { inner.flush() }

    func recordBody(flow: FlowID, isRequest: Bool, bytes: ArraySlice<UInt8>, time: Timestamp) {
        inner.recordBody(flow: flow, isRequest: isRequest, bytes: bytes, time: time)
        guard let entry = entryFoundByID(flow) else { return }
        applyBody(isRequest: isRequest, bytes: bytes, to: entry)
    }

    func record(_ event: FlowEvent) {
        inner.record(event)
        guard let id = event.flow, let entry = entryFoundByID(id) else { return }
        apply(event, to: entry)
    }

    /// The entry of a flow expected `byID`, not taken yet (no hashing while there is none).
    private func entryFoundByID(_ flow: FlowID) -> ReplayedFlowEntry? {
        entriesByID.isEmpty ? nil : entriesByID[flow]
    }

    private func applyBody(isRequest: Bool, bytes: ArraySlice<UInt8>, to entry: ReplayedFlowEntry) {
        if isRequest {
            entry.flow.requestBody.capturedBytes += UInt64(bytes.count)
        } else {
            entry.responseBody?.append(bytes)
            entry.flow.responseBody.capturedBytes += UInt64(bytes.count)
        }
    }

    /// What `CapturedSessionAssembler` does with the event's line, without the line.
    private func apply(_ event: FlowEvent, to entry: ReplayedFlowEntry) {
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
            entry.responseBody?.append(bytes[...])
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
