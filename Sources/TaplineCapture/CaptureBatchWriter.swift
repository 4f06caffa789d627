import Glibc
import TaplineFlow
import TaplineWire

/// The writer thread's half of a `CaptureWriter`: turns batches of flow events
/// into bytes in the session's files.
///
/// Thread ownership: created by `CaptureWriter.init`, then used only by the
/// writer thread (hence `@unchecked Sendable`: it is handed over once, never shared).
///
/// Invariants:
/// - Body bytes are written to the segment file before the events.jsonl line
///   that references them (`flushLines` always flushes bodies first), so a
///   reader never sees an extent pointing past the end of a segment written
///   by a cleanly behaving disk.
/// - A batch costs one write to the segment file and one to events.jsonl
///   (more only when a buffer passes its flush threshold or a segment fills).
/// - An extent never spans two segment files; a segment is rolled over when it
///   has reached `segmentLimit` bytes.
/// - After the first write error nothing more is written (the error is reported
///   once on stderr and, if possible, as a `writer-error` event); batches are
///   still consumed so the proxy is never stalled by a broken disk.
final class CaptureBatchWriter: @unchecked Sendable {
    /// One queued event, with the arrival time for body chunks (which carry none).
    struct Item {
        var event: FlowEvent
        var arrival: Int64
    }

    /// Per flow: body bytes seen and stored in each direction (for truncation).
    private struct BodyCounters {
        var requestSeen: UInt64 = 0
        var requestStored: UInt64 = 0
        var responseSeen: UInt64 = 0
        var responseStored: UInt64 = 0
    }

    /// A body line not yet written, extended while chunks stay contiguous.
    private struct PendingBody {
        var flow: FlowID
        var isRequest: Bool
        var segment: Int
        var offset: UInt64
        var length: UInt64
        var time: Int64
    }

    let directory: String
    private let options: CaptureOptions
    private let events: CaptureFile
    private var segment: CaptureFile?
    private var segmentNumber = 0
    private var segmentSize: UInt64 = 0
    private var lines = JSONLineBuilder(capacity: 256 << 10)
    private var bodyBuffer: [UInt8] = []
    private var pending: PendingBody?
    private var counters: [FlowID: BodyCounters] = [:]
    private(set) var failure: CaptureError?
    private(set) var stats = SessionStats()

    private static let bodyFlushThreshold = 1 << 20
    /// WebSocket payloads larger than this go to the body segment instead of the line.
    static let inlinePayloadLimit = 64 << 10
    private static let lineFlushThreshold = 4 << 20

    init(directory: String, options: CaptureOptions, events: CaptureFile) {
        self.directory = directory
        self.options = options
        self.events = events
    }

    /// Encodes and writes one batch.
    func write(_ batch: [Item]) {
        guard failure == nil else { return }
        do throws(CaptureError) {
            for item in batch { try encode(item) }
            try flushLines()
        } catch {
            fail(error)
        }
    }

    /// Makes everything durable (fsync) and closes the files. Returns the first error, if any.
    func finish() -> CaptureError? {
        if failure == nil {
            do throws(CaptureError) {
                try flushLines()
                try segment?.sync()
                try events.sync()
            } catch {
                fail(error)
            }
        }
        segment?.close()
        events.close()
        return failure
    }

    // MARK: - Encoding

    private func encode(_ item: Item) throws(CaptureError) {
        switch item.event {
        case .requestBody(let flow, let bytes):
            try body(flow: flow, isRequest: true, bytes: bytes, time: item.arrival)
            return
        case .responseBody(let flow, let bytes):
            try body(flow: flow, isRequest: false, bytes: bytes, time: item.arrival)
            return
        default:
            break
        }
        emitPendingBody()
        stats.events += 1
        switch item.event {
        case .connectionOpened(let connection, let client, let listener, let time):
            stats.connections += 1
            lines.beginEvent("connectionOpened", time: time.microseconds)
            lines.key("conn"); lines.integer(connection.rawValue)
            lines.key("client"); lines.string(client)
            lines.key("listener"); lines.string(listener)
        case .connectionTLS(let connection, let tls, let time):
            lines.beginEvent("connectionTLS", time: time.microseconds)
            lines.key("conn"); lines.integer(connection.rawValue)
            lines.key("tls"); lines.tls(tls)
        case .connectionClosed(let connection, let time, let received, let sent, let error):
            lines.beginEvent("connectionClosed", time: time.microseconds)
            lines.key("conn"); lines.integer(connection.rawValue)
            lines.key("received"); lines.integer(received)
            lines.key("sent"); lines.integer(sent)
            if let error { lines.key("error"); lines.flowError(error) }
        case .flowStarted(let flow, let connection, let kind, let scheme, let authority, let time):
            stats.flows += 1
            lines.beginEvent("flowStarted", time: time.microseconds)
            lines.key("flow"); lines.integer(flow.rawValue)
            lines.key("conn"); lines.integer(connection.rawValue)
            lines.key("kind"); lines.string(kind.rawValue)
            lines.key("scheme"); lines.string(scheme)
            lines.key("authority"); lines.string(authority)
        case .requestHead(let flow, let head, let time):
            lines.beginEvent("requestHead", time: time.microseconds)
            lines.key("flow"); lines.integer(flow.rawValue)
            lines.key("method"); lines.string(head.method)
            lines.key("target"); lines.string(head.target)
            lines.key("version"); lines.string(head.version.description)
            lines.key("headers"); lines.headers(head.headers)
        case .requestEnd(let flow, let trailers, let bodyBytes, let time):
            let counts = counters[flow] ?? BodyCounters()
            encodeMessageEnd("requestEnd", flow: flow, trailers: trailers, bodyBytes: bodyBytes,
                             seen: counts.requestSeen, stored: counts.requestStored, time: time)
        case .upstreamConnected(let flow, let server, let tls, let reused, let time):
            lines.beginEvent("upstreamConnected", time: time.microseconds)
            lines.key("flow"); lines.integer(flow.rawValue)
            lines.key("server"); lines.string(server)
            lines.key("reused"); lines.bool(reused)
            if let tls { lines.key("tls"); lines.tls(tls) }
        case .responseHead(let flow, let head, let time):
            lines.beginEvent("responseHead", time: time.microseconds)
            lines.key("flow"); lines.integer(flow.rawValue)
            lines.key("status"); lines.integer(head.status)
            lines.key("reason"); lines.string(head.reason)
            lines.key("version"); lines.string(head.version.description)
            lines.key("headers"); lines.headers(head.headers)
        case .responseEnd(let flow, let trailers, let bodyBytes, let time):
            let counts = counters[flow] ?? BodyCounters()
            encodeMessageEnd("responseEnd", flow: flow, trailers: trailers, bodyBytes: bodyBytes,
                             seen: counts.responseSeen, stored: counts.responseStored, time: time)
        case .flowEnded(let flow, let timings, let fromClient, let fromServer, let error, let time):
            counters[flow] = nil
            lines.beginEvent("flowEnded", time: time.microseconds)
            lines.key("flow"); lines.integer(flow.rawValue)
            lines.key("timings"); lines.timings(timings)
            lines.key("bytesFromClient"); lines.integer(fromClient)
            lines.key("bytesFromServer"); lines.integer(fromServer)
            if let error { lines.key("error"); lines.flowError(error) }
        case .http2Stream(let flow, let streamID, let time):
            lines.beginEvent("http2Stream", time: time.microseconds)
            lines.key("flow"); lines.integer(flow.rawValue)
            lines.key("stream"); lines.integer(UInt64(streamID))
        case .http2Settings(let connection, let fromClient, let settings, let time):
            lines.beginEvent("http2Settings", time: time.microseconds)
            lines.key("conn"); lines.integer(connection.rawValue)
            lines.key("side"); lines.string(constant: fromClient ? "client" : "upstream")
            lines.key("settings"); lines.beginArray()
            for setting in settings {
                lines.element(); lines.beginArray()
                lines.element(); lines.integer(UInt64(setting.identifier))
                lines.element(); lines.integer(UInt64(setting.value))
                lines.endArray()
            }
            lines.endArray()
        case .http2StreamReset(let flow, let fromClient, let errorCode, let time):
            lines.beginEvent("http2StreamReset", time: time.microseconds)
            lines.key("flow"); lines.integer(flow.rawValue)
            lines.key("side"); lines.string(constant: fromClient ? "client" : "upstream")
            lines.key("errorCode"); lines.integer(UInt64(errorCode))
        case .http2GoAway(let connection, let fromClient, let lastStreamID, let errorCode, let debugData, let time):
            lines.beginEvent("http2GoAway", time: time.microseconds)
            lines.key("conn"); lines.integer(connection.rawValue)
            lines.key("side"); lines.string(constant: fromClient ? "client" : "upstream")
            lines.key("lastStream"); lines.integer(UInt64(lastStreamID))
            lines.key("errorCode"); lines.integer(UInt64(errorCode))
            if !debugData.isEmpty { lines.key("debug"); lines.string(debugData) }
        case .webSocketMessage(let flow, let message, let time):
            try webSocketMessage(flow: flow, message: message, time: time)
        case .requestBody, .responseBody:
            return  // handled above
        }
        lines.endEvent()
        if lines.bytes.count >= Self.lineFlushThreshold { try flushLines() }
    }

    /// A `requestEnd`/`responseEnd` line: trailers, and the body's total, stored and truncated counts.
    private func encodeMessageEnd(_ type: StaticString, flow: FlowID, trailers: HTTPHeaders?, bodyBytes: UInt64,
                                  seen: UInt64, stored: UInt64, time: Timestamp) {
        lines.beginEvent(type, time: time.microseconds)
        lines.key("flow"); lines.integer(flow.rawValue)
        if let trailers { lines.key("trailers"); lines.headers(trailers) }
        lines.key("bodyBytes"); lines.integer(max(bodyBytes, seen))
        lines.key("capturedBytes"); lines.integer(stored)
        lines.key("truncated"); lines.bool(seen > stored)
    }

    /// Stores the part of a chunk under the body limit and extends or starts a body line.
    private func body(flow: FlowID, isRequest: Bool, bytes: [UInt8], time: Int64) throws(CaptureError) {
        var counts = counters[flow] ?? BodyCounters()
        let stored = isRequest ? counts.requestStored : counts.responseStored
        let room = options.maxBodyBytes.map { $0 > stored ? $0 - stored : 0 } ?? UInt64.max
        let keep = Int(min(UInt64(bytes.count), room))
        if isRequest {
            counts.requestSeen += UInt64(bytes.count)
            counts.requestStored += UInt64(keep)
        } else {
            counts.responseSeen += UInt64(bytes.count)
            counts.responseStored += UInt64(keep)
        }
        counters[flow] = counts
        guard keep > 0 else { return }

        let offset = try store(bytes[0..<keep])

        if var current = pending, current.flow == flow, current.isRequest == isRequest,
           current.segment == segmentNumber, current.offset + current.length == offset {
            current.length += UInt64(keep)
            pending = current
        } else {
            emitPendingBody()
            pending = PendingBody(flow: flow, isRequest: isRequest, segment: segmentNumber,
                                  offset: offset, length: UInt64(keep), time: time)
        }
        if bodyBuffer.count >= Self.bodyFlushThreshold { try flushBodies() }
    }

    /// Appends `bytes` to the current segment (starting a new one when it is full) and
    /// returns their offset in it; `segmentNumber` is the segment. Never spans segments.
    private func store(_ bytes: ArraySlice<UInt8>) throws(CaptureError) -> UInt64 {
        if segment == nil || segmentSize >= options.segmentLimit { try startSegment() }
        let offset = segmentSize
        bodyBuffer.append(contentsOf: bytes)
        segmentSize += UInt64(bytes.count)
        stats.bodyBytesStored += UInt64(bytes.count)
        return offset
    }

    /// A `wsMessage` line: payloads up to `inlinePayloadLimit` inline (text as a JSON
    /// string when valid UTF-8, else base64), larger ones in the body segment.
    private func webSocketMessage(flow: FlowID, message: WebSocketMessageRecord, time: Timestamp) throws(CaptureError) {
        let payload = message.payload
        let keep = options.maxBodyBytes.map { Int(min(UInt64(payload.count), $0)) } ?? payload.count
        let stored = payload[0..<keep]
        // Stored before the line is begun: starting a segment may emit a pending body line.
        var spilled: (segment: Int, offset: UInt64)?
        if keep > Self.inlinePayloadLimit {
            let offset = try store(stored)  // may start a new segment: read segmentNumber after it
            spilled = (segmentNumber, offset)
        }
        lines.beginEvent("wsMessage", time: time.microseconds)
        lines.key("flow"); lines.integer(flow.rawValue)
        lines.key("dir"); lines.string(constant: message.fromClient ? "client" : "server")
        lines.key("opcode"); lines.string(message.opcode.rawValue)
        lines.key("wireBytes"); lines.integer(message.wireBytes)
        lines.key("size"); lines.integer(payload.count)
        lines.key("compressed"); lines.bool(message.compressed)
        if message.opcode == .close, payload.count >= 2 {
            lines.key("code"); lines.integer(Int(payload[0]) << 8 | Int(payload[1]))
            lines.key("reason"); lines.string(String(decoding: payload[2...], as: UTF8.self))
        }
        if let spilled {
            lines.key("seg"); lines.integer(spilled.segment)
            lines.key("off"); lines.integer(spilled.offset)
            lines.key("len"); lines.integer(keep)
        } else if let text = String(validating: stored, as: UTF8.self) {
            lines.key("text"); lines.string(text)
        } else {
            lines.key("base64"); lines.string(Base64.encode(stored))
        }
        if keep < payload.count { lines.key("truncated"); lines.bool(true) }
        if bodyBuffer.count >= Self.bodyFlushThreshold { try flushBodies() }
    }

    private func emitPendingBody() {
        guard let body = pending else { return }
        pending = nil
        stats.events += 1
        lines.beginEvent("body", time: body.time)
        lines.key("flow"); lines.integer(body.flow.rawValue)
        lines.key("dir"); lines.string(constant: body.isRequest ? "request" : "response")
        lines.key("seg"); lines.integer(body.segment)
        lines.key("off"); lines.integer(body.offset)
        lines.key("len"); lines.integer(body.length)
        lines.endEvent()
    }

    // MARK: - Files

    /// The path of segment `number`: `bodies/000001.bin`.
    static func segmentPath(directory: String, number: Int) -> String {
        let digits = String(number)
        return directory + "/bodies/" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits + ".bin"
    }

    private func startSegment() throws(CaptureError) {
        try flushBodies()
        if let old = segment {
            try old.sync()
            old.close()
        }
        emitPendingBody()  // its extent is in the old segment, already flushed
        segmentNumber += 1
        segment = try CaptureFile.create(Self.segmentPath(directory: directory, number: segmentNumber))
        segmentSize = 0
    }

    private func flushBodies() throws(CaptureError) {
        guard !bodyBuffer.isEmpty, let segment else { return }
        try segment.writeAll(bodyBuffer)
        bodyBuffer.removeAll(keepingCapacity: bodyBuffer.capacity <= 2 * Self.bodyFlushThreshold)
    }

    private func flushLines() throws(CaptureError) {
        emitPendingBody()
        try flushBodies()
        guard !lines.bytes.isEmpty else { return }
        try events.writeAll(lines.bytes)
        lines.removeAll()
    }

    private func fail(_ error: CaptureError) {
        guard failure == nil else { return }
        failure = error
        let message = "tapline: capture stopped: \(error); the proxy keeps running but this session is incomplete\n"
        CaptureFile.printError(message)
        // Tell readers too, if events.jsonl still takes writes (it may be the file that failed).
        var line = JSONLineBuilder(capacity: 512)
        line.beginEvent("writer-error", time: Timestamp.now().microseconds)
        line.key("message"); line.string(error.description)
        line.endEvent()
        try? events.writeAll(line.bytes)
        lines.removeAll()
        bodyBuffer = []
        pending = nil
    }
}
