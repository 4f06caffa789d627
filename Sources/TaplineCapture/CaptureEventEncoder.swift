import TaplineFlow
import TaplineWire

/// Turns flow events into events.jsonl lines and body bytes (format v2, see
/// docs/capture-format.md), ready for the writer thread to append.
///
/// Thread ownership: confined to one thread at a time. Each event loop has its
/// own encoder (inside a `CaptureEventStream`), so the proxy encodes on the
/// thread that produced the events and the writer thread only writes bytes;
/// `CaptureWriter.record` shares one encoder under the writer's lock.
///
/// Body storage: every encoder owns its current body segment (numbers come from
/// the writer, so two loops never share one) and allocates offsets in it itself.
/// Invariants:
/// - An extent never spans two segments; the encoder starts a new segment once
///   its current one has reached `segmentLimit` bytes.
/// - A body line is only emitted for bytes already placed in a run of this or an
///   earlier batch (`takeBatch` emits the pending body line last).
/// - All events of a flow go through the same encoder (they come from one event
///   loop), so the per-flow truncation counters are local.
/// - A line is only extended (`extendable`) while it is the last thing written
///   and still in this batch.
struct CaptureEventEncoder {
    /// A body line not yet written, extended while chunks stay contiguous.
    private struct PendingBody {
        var flow: FlowID
        var isRequest: Bool
        var segment: Int
        var offset: UInt64
        var length: UInt64
        var time: Int64
    }

    /// The line just written, when a following event of its flow may be folded into
    /// it (format v2): a `flowStarted` takes the flow's `http2Stream`, a `requestHead`
    /// the end of a request without body or trailers at the same time.
    private struct ExtendableLine {
        enum Kind { case flowStarted, requestHead }
        var kind: Kind
        var flow: FlowID
        var time: Int64
        /// `lines.count` right after the line: it is still the last one while they match.
        var end: Int
    }

    /// WebSocket payloads larger than this go to the body segment instead of the line.
    static let inlinePayloadLimit = 64 << 10

    private let maxBodyBytes: UInt64?
    private let lineCapacity: Int
    private let segmentLimit: UInt64
    private let nextSegmentNumber: @Sendable () -> Int
    private var lines: JSONLineBuilder
    /// Body bytes of this batch; nil until its first (or a spare from the writer).
    private var bodies: CaptureByteStorage?
    private var runs: [CaptureBatch.Run] = []
    private var finishedSegments: [Int] = []
    private var segment: Int?
    private var segmentSize: UInt64 = 0
    private var pending: PendingBody?
    private var extendable: ExtendableLine?
    /// Per flow: body bytes seen and stored in each direction (for truncation).
    private var counters = CaptureBodyCounters()
    /// Per flow and direction: the large WebSocket message whose payload is being
    /// streamed into the segment, until its `wsMessage` line is written.
    private var streamedPayloads: [StreamedPayloadKey: StreamedWebSocketPayload] = [:]
    private struct StreamedPayloadKey: Hashable {
        var flow: FlowID
        var fromClient: Bool
    }
    private var stats = SessionStats()
    /// Splits gRPC flows' bodies into messages as they are recorded (`grpcMessage` lines).
    private var grpcMessages = GRPCMessageRecorder()
    /// Reused for the entries `grpcMessages` hands back.
    private var grpcEntries: [CapturedGRPCMessage] = []

    /// - Parameter nextSegmentNumber: hands out session-unique segment numbers (from 1).
    init(options: CaptureOptions, lineCapacity: Int = 16 << 10,
         nextSegmentNumber: @escaping @Sendable () -> Int) {
        maxBodyBytes = options.maxBodyBytes
        segmentLimit = options.segmentLimit
        self.nextSegmentNumber = nextSegmentNumber
        self.lineCapacity = lineCapacity
        lines = JSONLineBuilder(capacity: lineCapacity)
    }

    /// Bytes encoded and not yet taken (lines plus body bytes).
    var bufferedBytes: Int { lines.count + (bodies?.count ?? 0) }

    /// True when nothing has been encoded since the last `takeBatch`.
    var isEmpty: Bool { lines.isEmpty && (bodies?.isEmpty ?? true) && pending == nil && finishedSegments.isEmpty }

    /// Hands over everything encoded so far (emitting the pending body line first);
    /// nil when there is nothing. Continues into the buffers in `spare` (taking
    /// them) or new ones.
    mutating func takeBatch(spare: inout CaptureWriter.SpareBuffers) -> CaptureBatch? {
        emitPendingBody()
        extendable = nil  // its line leaves with this batch
        let batchBodies = bodies?.isEmpty == false ? bodies : nil
        guard !lines.isEmpty || batchBodies != nil || !finishedSegments.isEmpty else { return nil }
        let nextLines = spare.lines ?? CaptureByteStorage(capacity: lineCapacity)
        spare.lines = nil
        let batch = CaptureBatch(lines: lines.takeStorage(replacement: nextLines),
                                 bodies: batchBodies, runs: runs, finishedSegments: finishedSegments, stats: stats)
        if batchBodies != nil { bodies = spare.bodies }  // an empty one stays for the next batch
        spare.bodies = nil
        runs = []
        finishedSegments = []
        stats = SessionStats()
        return batch
    }

    /// Encodes one event. `now` is the arrival time given to body chunks (which carry none).
    mutating func encode(_ event: FlowEvent, now: @autoclosure () -> Timestamp = .now()) {
        switch event {
        case .requestBody(let flow, let bytes):
            encodeBody(flow: flow, isRequest: true, bytes: bytes[...], now: now())
            return
        case .responseBody(let flow, let bytes):
            encodeBody(flow: flow, isRequest: false, bytes: bytes[...], now: now())
            return
        case .webSocketPayload(let flow, let fromClient, let bytes):
            encodeWebSocketPayload(flow: flow, fromClient: fromClient, bytes: bytes)
            return
        default:
            break
        }
        if pending != nil { emitPendingBody() }
        if !grpcMessages.isEmpty { recordGRPCMessagesEnding(at: event) }
        if extendable != nil, extendLastLine(with: event) { return }
        stats.events += 1
        var opened: ExtendableLine?
        switch event {
        case .connectionOpened(let connection, let client, let listener, let time):
            stats.connections += 1
            lines.beginEvent("connectionOpened", time: time.microseconds)
            lines.member("conn", connection.rawValue)
            lines.member("client", client)
            lines.member("listener", listener)
        case .connectionTLS(let connection, let tls, let time):
            lines.beginEvent("connectionTLS", time: time.microseconds)
            lines.member("conn", connection.rawValue)
            lines.key("tls"); lines.tls(tls)
        case .connectionClosed(let connection, let time, let received, let sent, let error):
            lines.beginEvent("connectionClosed", time: time.microseconds)
            lines.member("conn", connection.rawValue)
            lines.member("received", received)
            lines.member("sent", sent)
            if let error { lines.key("error"); lines.flowError(error) }
        case .flowStarted(let flow, let connection, let kind, let scheme, let authority, let time):
            stats.flows += 1
            lines.beginFlowEvent("flowStarted", time: time.microseconds, flow: flow.rawValue)
            lines.member("conn", connection.rawValue)
            lines.member("kind", kind: kind)
            lines.member("scheme", scheme)
            lines.member("authority", authority)
            opened = ExtendableLine(kind: .flowStarted, flow: flow, time: time.microseconds, end: 0)
        case .requestHead(let flow, let head, let time):
            lines.beginFlowEvent("requestHead", time: time.microseconds, flow: flow.rawValue)
            lines.member("method", head.method)
            lines.member("target", head.target)
            lines.member("version", version: head.version)
            lines.key("headers"); lines.headers(head.headers)
            opened = ExtendableLine(kind: .requestHead, flow: flow, time: time.microseconds, end: 0)
            trackIfGRPC(flow, headers: head.headers)
        case .requestEnd(let flow, let trailers, let bodyBytes, let time):
            let counts = counters[flow]
            encodeMessageEnd("requestEnd", flow: flow, trailers: trailers, bodyBytes: bodyBytes,
                             seen: counts.requestSeen, stored: counts.requestStored, time: time)
        case .upstreamConnected(let flow, let server, let tls, let reused, let time):
            lines.beginFlowEvent("upstreamConnected", time: time.microseconds, flow: flow.rawValue)
            lines.member("server", server)
            lines.member("reused", reused)
            if let tls { lines.key("tls"); lines.tls(tls) }
        case .responseHead(let flow, let head, let time):
            lines.beginFlowEvent("responseHead", time: time.microseconds, flow: flow.rawValue)
            lines.member("status", head.status)
            if !head.reason.isEmpty { lines.member("reason", head.reason) }
            lines.member("version", version: head.version)
            lines.key("headers"); lines.headers(head.headers)
        case .responseEnd(let flow, let trailers, let bodyBytes, let time):
            let counts = counters[flow]
            encodeMessageEnd("responseEnd", flow: flow, trailers: trailers, bodyBytes: bodyBytes,
                             seen: counts.responseSeen, stored: counts.responseStored, time: time)
        case .flowEnded(let flow, let timings, let fromClient, let fromServer, let error, let time):
            counters.remove(flow)
            if !streamedPayloads.isEmpty {  // a message cut off by the flow's end
                streamedPayloads[StreamedPayloadKey(flow: flow, fromClient: true)] = nil
                streamedPayloads[StreamedPayloadKey(flow: flow, fromClient: false)] = nil
            }
            lines.beginFlowEvent("flowEnded", time: time.microseconds, flow: flow.rawValue)
            lines.key("timings"); lines.timings(timings)
            lines.flowByteCounts(fromClient: fromClient, fromServer: fromServer)
            if let error { lines.key("error"); lines.flowError(error) }
        case .flowReplays(let flow, let sourceFlow, let time):
            lines.beginFlowEvent("flowReplays", time: time.microseconds, flow: flow.rawValue)
            lines.member("sourceFlow", sourceFlow.rawValue)
        case .http2Stream(let flow, let streamID, let time):
            lines.beginFlowEvent("http2Stream", time: time.microseconds, flow: flow.rawValue)
            lines.member("stream", UInt64(streamID))
        case .http2Settings(let connection, let fromClient, let settings, let time):
            lines.beginEvent("http2Settings", time: time.microseconds)
            lines.member("conn", connection.rawValue)
            lines.member("side", constant: fromClient ? "client" : "upstream")
            lines.key("settings"); lines.beginArray()
            for setting in settings {
                lines.element(); lines.beginArray()
                lines.element(); lines.integer(UInt64(setting.identifier))
                lines.element(); lines.integer(UInt64(setting.value))
                lines.endArray()
            }
            lines.endArray()
        case .http2StreamReset(let flow, let fromClient, let errorCode, let time):
            lines.beginFlowEvent("http2StreamReset", time: time.microseconds, flow: flow.rawValue)
            lines.member("side", constant: fromClient ? "client" : "upstream")
            lines.member("errorCode", UInt64(errorCode))
        case .http2GoAway(let connection, let fromClient, let lastStreamID, let errorCode, let debugData, let time):
            lines.beginEvent("http2GoAway", time: time.microseconds)
            lines.member("conn", connection.rawValue)
            lines.member("side", constant: fromClient ? "client" : "upstream")
            lines.member("lastStream", UInt64(lastStreamID))
            lines.member("errorCode", UInt64(errorCode))
            if !debugData.isEmpty { lines.member("debug", debugData) }
        case .webSocketMessage(let flow, let message, let time):
            webSocketMessage(flow: flow, message: message, time: time)
        case .requestBody, .responseBody, .webSocketPayload:
            return  // handled above
        }
        lines.endEvent()
        opened?.end = lines.count
        extendable = opened
    }

    /// Encodes an `extension` line: `value` filed under `name` for `flow`, or for the
    /// session when `flow` is nil (docs/capture-format.md, "Extensions"). Not a
    /// `FlowEvent`: the proxy never records one; importers do, through
    /// `CaptureWriter.recordExtension`.
    mutating func encodeExtension(name: String, value: CaptureJSONValue, flow: FlowID?, time: Timestamp) {
        emitPendingBody()
        stats.events += 1
        lines.beginEvent("extension", time: time.microseconds)
        if let flow { lines.member("flow", flow.rawValue) }
        lines.key("name"); lines.string(name)
        lines.key("value"); value.write(to: &lines)
        lines.endEvent()
        extendable = nil
    }

    /// Folds `event` into the line just written where format v2 puts it there, and
    /// returns true; false when it needs a line of its own:
    /// - a flow's `http2Stream` into its `flowStarted`, as `"stream"`;
    /// - a `requestEnd` without body or trailers, at the time of its flow's
    ///   `requestHead`, into that head, as `"ended":true`.
    private mutating func extendLastLine(with event: FlowEvent) -> Bool {
        guard let line = extendable, line.end == lines.count else { return false }
        switch event {
        case .http2Stream(let flow, let streamID, _) where line.kind == .flowStarted && line.flow == flow:
            lines.reopenLastLine()
            lines.member("stream", UInt64(streamID))
        case .requestEnd(let flow, .none, 0, let time)
            where line.kind == .requestHead && line.flow == flow && line.time == time.microseconds
                && counters[flow].requestSeen == 0:
            lines.reopenLastLine()
            lines.member("ended", true)
        default:
            return false
        }
        lines.endEvent()
        extendable = nil
        return true
    }

    /// A `requestEnd`/`responseEnd` line: trailers, and the body's total, stored and truncated counts.
    private mutating func encodeMessageEnd(_ type: StaticString, flow: FlowID, trailers: HTTPHeaders?, bodyBytes: UInt64,
                                           seen: UInt64, stored: UInt64, time: Timestamp) {
        lines.beginFlowEvent(type, time: time.microseconds, flow: flow.rawValue)
        if let trailers { lines.key("trailers"); lines.headers(trailers) }
        lines.messageEndCounts(bodyBytes: max(bodyBytes, seen), capturedBytes: stored, truncated: seen > stored)
    }

    /// A chunk of a flow's request or response body (what `.requestBody`/`.responseBody`
    /// carry): stores the part under the body limit and extends or starts a body line.
    mutating func encodeBody(flow: FlowID, isRequest: Bool, bytes: ArraySlice<UInt8>,
                             now: @autoclosure () -> Timestamp = .now()) {
        var counts = counters[flow]
        let stored = isRequest ? counts.requestStored : counts.responseStored
        let room = maxBodyBytes.map { $0 > stored ? $0 - stored : 0 } ?? UInt64.max
        let keep = Int(min(UInt64(bytes.count), room))
        if isRequest {
            counts.requestSeen += UInt64(bytes.count)
            counts.requestStored += UInt64(keep)
        } else {
            counts.responseSeen += UInt64(bytes.count)
            counts.responseStored += UInt64(keep)
        }
        counters.set(counts, for: flow)
        var chunkTime: Timestamp?
        if keep > 0 {
            let (segmentNumber, offset) = store(bytes.prefix(keep))
            if var current = pending, current.flow == flow, current.isRequest == isRequest,
               current.segment == segmentNumber, current.offset + current.length == offset {
                current.length += UInt64(keep)
                pending = current
            } else {
                emitPendingBody()
                let time = now()
                chunkTime = time
                pending = PendingBody(flow: flow, isRequest: isRequest, segment: segmentNumber,
                                      offset: offset, length: UInt64(keep), time: time.microseconds)
            }
        }
        guard !grpcMessages.isEmpty else { return }
        grpcMessages.consume(bytes, flow: flow, isRequest: isRequest,
                             storedEnd: isRequest ? counts.requestStored : counts.responseStored,
                             now: { chunkTime ?? now() }, into: &grpcEntries)
        if !grpcEntries.isEmpty {
            emitPendingBody()  // the body line holding the messages' last stored bytes comes first
            writeGRPCEntries(flow: flow)
        }
    }

    /// Starts splitting `flow`'s bodies into messages when the `Content-Type` of its request
    /// head (`headers`) is a framed gRPC or gRPC-Web type (not gRPC-Web text: that is read
    /// back by re-framing). Only the request decides: gRPC clients always send the type,
    /// and a response head arrives after the request body began.
    private mutating func trackIfGRPC(_ flow: FlowID, headers: HTTPHeaders) {
        guard let framing = GRPCFraming(framedContentTypeOf: headers) else { return }
        grpcMessages.track(flow, framing: framing)
    }

    /// Before a tracked flow's `requestEnd`, `responseEnd` or `flowEnded` line: the
    /// `grpcMessage` line of a frame that body ended inside.
    private mutating func recordGRPCMessagesEnding(at event: FlowEvent) {
        switch event {
        case .requestEnd(let flow, _, _, let time):
            grpcMessages.finish(flow: flow, isRequest: true, time: time, into: &grpcEntries)
            writeGRPCEntries(flow: flow)
        case .responseEnd(let flow, _, _, let time):
            grpcMessages.finish(flow: flow, isRequest: false, time: time, into: &grpcEntries)
            writeGRPCEntries(flow: flow)
        case .flowEnded(let flow, _, _, _, _, let time):
            grpcMessages.flowEnded(flow, time: time, into: &grpcEntries)
            writeGRPCEntries(flow: flow)
        default:
            break
        }
    }

    /// Writes a `grpcMessage` line for each entry in `grpcEntries` and empties it.
    private mutating func writeGRPCEntries(flow: FlowID) {
        guard !grpcEntries.isEmpty else { return }
        for entry in grpcEntries {
            stats.events += 1
            lines.beginFlowEvent("grpcMessage", time: entry.time.microseconds, flow: flow.rawValue)
            lines.member("dir", constant: entry.direction == .request ? "request" : "response")
            lines.member("index", entry.index)
            lines.member("compressed", entry.compressed)
            if let wireBytes = entry.wireBytes { lines.member("wireBytes", wireBytes) }
            lines.member("off", entry.payloadOffset)
            if entry.truncated { lines.member("truncated", true) }
            switch entry.kind {
            case .message: break
            case .webTrailers: lines.member("trailers", true)
            case .malformed(let reason, let cut):
                lines.member("malformed", reason)
                if cut { lines.member("cut", true) }
            }
            lines.endEvent()
        }
        grpcEntries.removeAll(keepingCapacity: true)
        extendable = nil
    }

    /// Places `bytes` at the end of this encoder's segment (starting a new one when it
    /// is full) and returns where. Never spans segments.
    private mutating func store(_ bytes: ArraySlice<UInt8>) -> (segment: Int, offset: UInt64) {
        if segment == nil || segmentSize >= segmentLimit {
            emitPendingBody()  // its extent is in the old segment
            if let old = segment { finishedSegments.append(old) }
            segment = nextSegmentNumber()
            segmentSize = 0
        }
        let number = segment!
        let offset = segmentSize
        if let last = runs.last, last.segment == number, last.offset + UInt64(last.length) == offset {
            runs[runs.count - 1].length += bytes.count
        } else {
            runs.append(CaptureBatch.Run(segment: number, offset: offset, length: bytes.count))
        }
        let storage = bodies ?? CaptureByteStorage(capacity: max(bytes.count, 16 << 10))  // not a regrowth chain
        bodies = storage
        bytes.withUnsafeBytes { storage.append($0) }
        segmentSize += UInt64(bytes.count)
        stats.bodyBytesStored += UInt64(bytes.count)
        return (number, offset)
    }

    /// A piece of a streamed WebSocket payload: stores the part under the per-message
    /// body limit; the message's `wsMessage` line will list where (no line now).
    private mutating func encodeWebSocketPayload(flow: FlowID, fromClient: Bool, bytes: [UInt8]) {
        let key = StreamedPayloadKey(flow: flow, fromClient: fromClient)
        var streamed = streamedPayloads[key] ?? StreamedWebSocketPayload()
        let room = maxBodyBytes.map { $0 > streamed.stored ? $0 - streamed.stored : 0 } ?? UInt64.max
        let keep = Int(min(UInt64(bytes.count), room))
        streamed.seen += UInt64(bytes.count)
        if keep > 0 {
            let (segmentNumber, offset) = store(bytes[..<keep])
            streamed.append(segment: segmentNumber, offset: offset, length: UInt64(keep))
        }
        streamedPayloads[key] = streamed
    }

    /// The members every `wsMessage` line starts with.
    private mutating func beginWebSocketMessageLine(flow: FlowID, message: WebSocketMessageRecord, time: Timestamp) {
        lines.beginFlowEvent("wsMessage", time: time.microseconds, flow: flow.rawValue)
        lines.member("dir", constant: message.fromClient ? "client" : "server")
        lines.member("opcode", message.opcode.rawValue)
        lines.member("wireBytes", message.wireBytes)
        lines.member("size", message.size)
        lines.member("compressed", message.compressed)
    }

    /// `capped` and the cap it was cut at, for a message the decoding cap cut.
    private mutating func appendCapMembers(of message: WebSocketMessageRecord) {
        guard message.decodingCapped else { return }
        lines.member("capped", true)
        if let cap = message.capSize { lines.member("cap", cap) }
    }

    /// A `wsMessage` line for a message whose payload was streamed ahead of it: one
    /// extent as `seg`/`off`/`len`, several as `extents` (`[[seg, off, len], ...]`).
    private mutating func streamedWebSocketMessage(flow: FlowID, message: WebSocketMessageRecord, time: Timestamp) {
        let streamed = streamedPayloads.removeValue(forKey: StreamedPayloadKey(flow: flow, fromClient: message.fromClient))
            ?? StreamedWebSocketPayload()
        beginWebSocketMessageLine(flow: flow, message: message, time: time)
        if streamed.extents.count == 1, let extent = streamed.extents.first {
            lines.member("seg", extent.segment)
            lines.member("off", extent.offset)
            lines.member("len", extent.length)
        } else if streamed.extents.isEmpty {
            lines.member("text", "")
        } else {
            lines.key("extents"); lines.beginArray()
            for extent in streamed.extents {
                lines.element(); lines.beginArray()
                lines.element(); lines.integer(extent.segment)
                lines.element(); lines.integer(extent.offset)
                lines.element(); lines.integer(extent.length)
                lines.endArray()
            }
            lines.endArray()
        }
        if streamed.stored < message.size || message.decodingCapped { lines.member("truncated", true) }
        appendCapMembers(of: message)
    }

    /// A `wsMessage` line: payloads up to `inlinePayloadLimit` inline (text as a JSON
    /// string when valid UTF-8, else base64), larger ones in the body segment; a
    /// streamed payload where its pieces went.
    private mutating func webSocketMessage(flow: FlowID, message: WebSocketMessageRecord, time: Timestamp) {
        if message.streamedPayloadSize != nil {
            streamedWebSocketMessage(flow: flow, message: message, time: time)
            return
        }
        let payload = message.payload
        let keep = maxBodyBytes.map { Int(min(UInt64(payload.count), $0)) } ?? payload.count
        let stored = payload[0..<keep]
        // Stored before the line is begun: starting a segment may emit a pending body line.
        var spilled: (segment: Int, offset: UInt64)?
        if keep > Self.inlinePayloadLimit {
            spilled = store(stored)
        }
        beginWebSocketMessageLine(flow: flow, message: message, time: time)
        if message.opcode == .close, payload.count >= 2 {
            lines.member("code", Int(payload[0]) << 8 | Int(payload[1]))
            lines.member("reason", String(decoding: payload[2...], as: UTF8.self))
        }
        if let spilled {
            lines.member("seg", spilled.segment)
            lines.member("off", spilled.offset)
            lines.member("len", keep)
        } else if let text = String(validating: stored, as: UTF8.self) {
            lines.member("text", text)
        } else {
            lines.member("base64", Base64.encode(stored))
        }
        let undecoded = message.undecodedCompressedSize != nil
        if UInt64(keep) < message.size || message.decodingCapped || undecoded { lines.member("truncated", true) }
        appendCapMembers(of: message)
        if undecoded { lines.member("undecoded", true) }
    }

    private mutating func emitPendingBody() {
        guard let body = pending else { return }
        pending = nil
        stats.events += 1
        lines.bodyLine(time: body.time, flow: body.flow.rawValue, isRequest: body.isRequest,
                       segment: body.segment, offset: body.offset, length: body.length)
    }
}
