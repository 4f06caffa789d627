import TaplineFlow
import TaplineWire

/// Builds flows and connections from events.jsonl lines, one line at a time,
/// collecting warnings instead of failing (the tolerant half of the format; it reads v1 and v2).
/// Used inside `CapturedSession.open` and `CapturedSession.stream` (which takes each
/// flow out as it ends, `takeFlow`), on the caller's thread.
struct CapturedSessionAssembler {
    let directory: String
    /// What of each flow is assembled (`CapturedFlowDetail`); set again by `reset`.
    private(set) var detail: CapturedFlowDetail
    /// Whether lines are taken by their prefix alone where `.replayPlan` allows it
    /// (`detail == .replayPlan`).
    private var takesLinesByPrefix = false
    /// Whether the header lists of plain exchanges are left out (`.withoutPlainHeaders`,
    /// `.replayPlan`).
    private var dropsPlainHeaders = false
    /// Whether `upstreamConnected` lines are left out unread (`.replaySend`).
    private var leavesOutUpstreamConnected = false
    /// For reading a flow again whole after a `.replayPlan` read (`CapturedFlowIndex`):
    /// when a line that read takes by its prefix alone (`positionTakenByPrefix`) is
    /// skipped as damaged, `damageAfterPrefix` says so. Looked at only for a
    /// line skipped as damaged, so it costs a flow read again nothing otherwise; there a
    /// plain request is told from the request head as read whole (`isPlain`).
    let checksLinesTakenByPrefix: Bool
    /// Flows in the order they started; `position(of:)` finds a flow id's place.
    /// Kept in an array so that events change a flow in place (a dictionary's
    /// subscript moves the large value out and back) and growth is one memcpy.
    private var flows: [CapturedFlow] = []
    /// Per place in `flows`, whether its request head is plain as `.withoutPlainHeaders`
    /// tells (`isPlainRequest`; false until a head is read): such a request's response
    /// heads are the ones that detail leaves without fields, and its response heads, body
    /// and end lines those `.replayPlan` takes by prefix (`isTakenByPrefix`). Moved wherever `flows` is; kept only when `detail` is not `.whole`
    /// (`tracksPlainRequests`; a whole read, as a flow read again, has no use for it).
    private var requestIsPlain: [Bool] = []
    /// `dropsPlainHeaders`: `requestIsPlain` is kept.
    private var tracksPlainRequests: Bool { dropsPlainHeaders }
    /// Each flow's place in `flows` by its id, while more than one flow is assembled.
    /// Invariant: empty while `flows` holds at most one flow (that one is found by
    /// comparing its id: a flow read again, and the flows of a session that follow one
    /// another, are assembled without a hash table); else `flowPositions[flows[i].id] == i`
    /// for every place `i`.
    private var flowPositions: [UInt64: Int] = [:]
    /// The last flow `flowPosition` found or a `flowStarted` placed, and its place in
    /// `flows`: a flow's lines mostly follow one another, so most lines find their flow
    /// without hashing its id. Invariant: when set, `position(of: id) == at`; cleared
    /// wherever places change (`takeFlow`, `reset`, `finish`).
    private var lastPosition: (id: UInt64, at: Int)?
    private var connections: [UInt64: CapturedConnection] = [:]
    private var sessionExtensions: [String: CaptureJSONValue] = [:]
    private var warnings: [String] = []
    private var suppressedWarnings = 0
    private var unknownTypes: [String: Int] = [:]
    private var unknownTypeOrder: [String] = []

    /// The flow the last applied line belonged to (nil for a connection or session line,
    /// or a line skipped as damaged), and whether it was that flow's `flowEnded`.
    private(set) var lastLineFlow: UInt64?
    private(set) var lastLineEndedFlow = false
    /// With `checksLinesTakenByPrefix`: the first line since `reset` that a `.replayPlan`
    /// read takes by its prefix alone and the full read skipped as damaged: its number
    /// (as given to `apply`) and what is wrong with it, in words.
    private(set) var damageAfterPrefix: (number: Int, reason: String)?
    /// The last line was left out unread by `detail` (`CapturedFlowDetail.replaySend`).
    private(set) var lastLineLeftOut = false
    /// Lines skipped as damaged (`skip`), and why the last one was.
    private var skippedLines = 0
    private var lastSkipReason = ""
    /// Flows taken out (`takeFlow`): a later line of one (an imported HAR's `extension`
    /// after its `flowEnded`) is dropped without a warning.
    private var takenFlows = CapturedFlowIDSet()
    /// The direct reader's slots, reused for every line (`CaptureFlatLine.Slots`).
    private let flatLineSlots = CaptureFlatLine.Slots()
    /// `CaptureEventType.names`' lookup, for `CaptureFlowLinePrefix` (held as the slots hold theirs).
    private let eventTypeNames = CaptureEventType.names.lookup

    static let warningLimit = 50

    /// - Parameter checksLinesTakenByPrefix: as the property; only with a detail that
    ///   takes no line by its prefix (the lines are checked by reading them whole).
    init(directory: String, detail: CapturedFlowDetail = .whole, checksLinesTakenByPrefix: Bool = false) {
        precondition(!checksLinesTakenByPrefix || detail != .replayPlan, "a line is checked by reading it whole")
        self.directory = directory
        self.detail = detail
        self.checksLinesTakenByPrefix = checksLinesTakenByPrefix
        readsDetail()
    }

    /// Sets what follows from `detail`.
    private mutating func readsDetail() {
        takesLinesByPrefix = detail == .replayPlan
        dropsPlainHeaders = detail == .withoutPlainHeaders || detail == .replayPlan
        leavesOutUpstreamConnected = detail == .replaySend
    }

    /// Back to what `init` made, for reading another part of the same session with
    /// `detail` (not `.replayPlan` when `checksLinesTakenByPrefix`): every flow,
    /// connection, warning and count is forgotten; the storage (and the direct reader's
    /// slots) is kept for the next lines.
    mutating func reset(detail: CapturedFlowDetail) {
        precondition(!checksLinesTakenByPrefix || detail != .replayPlan, "a line is checked by reading it whole")
        self.detail = detail
        readsDetail()
        // Most are empty already (a flow read again leaves only its flow, taken out):
        // emptied only when not, which costs a flow read again nothing.
        if !flows.isEmpty { flows.removeAll(keepingCapacity: true) }
        if !requestIsPlain.isEmpty { requestIsPlain.removeAll(keepingCapacity: true) }
        if !flowPositions.isEmpty { flowPositions.removeAll(keepingCapacity: true) }
        lastPosition = nil
        if !connections.isEmpty { connections.removeAll(keepingCapacity: true) }
        if !sessionExtensions.isEmpty { sessionExtensions.removeAll(keepingCapacity: true) }
        if !warnings.isEmpty { warnings.removeAll(keepingCapacity: true) }
        suppressedWarnings = 0
        if !unknownTypes.isEmpty { unknownTypes.removeAll(keepingCapacity: true) }
        if !unknownTypeOrder.isEmpty { unknownTypeOrder.removeAll(keepingCapacity: true) }
        lastLineFlow = nil
        lastLineEndedFlow = false
        damageAfterPrefix = nil
        lastLineLeftOut = false
        takenFlows.removeAll()
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
        skippedLines &+= 1
        lastSkipReason = reason
    }

    /// Applies line `number` of events.jsonl (its bytes without the terminator).
    mutating func apply(line: ArraySlice<UInt8>, number: Int) {
        line.withUnsafeBufferPointer { apply(bytes: $0, number: number) }
    }

    /// `apply(line:number:)` of a line's bytes where they are (only read during the call).
    mutating func apply(bytes line: UnsafeBufferPointer<UInt8>, number: Int) {
        lastLineFlow = nil
        lastLineEndedFlow = false
        lastLineLeftOut = leavesOutUpstreamConnected && Self.startsAsUpstreamConnected(line)
        if lastLineLeftOut { return }
        guard takesLinesByPrefix else { return applyWhole(line: line, number: number) }
        guard let prefix = CaptureFlowLinePrefix(line, eventTypeNames: eventTypeNames) else {
            return applyWhole(line: line, number: number)
        }
        if let at = positionTakenByPrefix(prefix) { return apply(prefix, at: at) }
        // Read the full way from after the prefix, which is not read twice.
        applyWhole(line: line, number: number, after: prefix)
    }

    /// `apply(bytes:number:)` for a flow read again (`CapturedFlowIndex.flow(at:)`, a read
    /// that takes no line by its prefix): with `checksLinesTakenByPrefix`, a line skipped
    /// as damaged is looked at again (rare; `damageAfterPrefix`).
    @inline(__always)
    mutating func applyReadAgain(bytes line: UnsafeBufferPointer<UInt8>, number: Int) {
        let skippedBefore = skippedLines
        apply(bytes: line, number: number)
        if checksLinesTakenByPrefix, skippedLines != skippedBefore, damageAfterPrefix == nil {
            noteDamageAfterPrefix(line: line, number: number)
        }
    }

    /// Sets `damageAfterPrefix` if line `number`, just skipped as damaged, is one a
    /// `.replayPlan` read takes by its prefix alone (as `positionTakenByPrefix` tells; a
    /// plain request told by `isPlain`).
    @inline(never)
    private mutating func noteDamageAfterPrefix(line: UnsafeBufferPointer<UInt8>, number: Int) {
        guard let prefix = CaptureFlowLinePrefix(line, eventTypeNames: eventTypeNames),
              let at = knownPosition(prefix.flow),
              Self.isTakenByPrefix(prefix.type, requestIsPlain: Self.isPlain(flows[at].request)) else { return }
        damageAfterPrefix = (number, "its \(prefix.type.rawValue) line is damaged after its first members (\(lastSkipReason))")
    }

    /// Whether `.replayPlan` takes a line of `type` by its prefix alone, of a flow whose
    /// request head is plain (`requestIsPlain`) or not: `upstreamConnected` and
    /// `flowEnded` lines of any flow; `responseHead`, `body`, `requestEnd` and
    /// `responseEnd` lines of a plain request's flow (none of them can make it a
    /// WebSocket, and the plan looks into none: what they hold is checked when the flow
    /// is read again to be sent, `ReplayPlan.item`).
    @inline(__always)
    private static func isTakenByPrefix(_ type: CaptureEventType, requestIsPlain: Bool) -> Bool {
        switch type {
        case .upstreamConnected, .flowEnded: true
        case .responseHead, .body, .requestEnd, .responseEnd: requestIsPlain
        default: false
        }
    }

    /// Where the flow of a line `.replayPlan` takes by its prefix alone
    /// (`isTakenByPrefix`) is in `flows`, if it is being assembled; nil for any other line.
    @inline(__always)
    private mutating func positionTakenByPrefix(_ prefix: CaptureFlowLinePrefix) -> Int? {
        switch prefix.type {
        case .upstreamConnected, .flowEnded, .responseHead, .body, .requestEnd, .responseEnd:
            guard let at = knownPosition(prefix.flow),
                  Self.isTakenByPrefix(prefix.type, requestIsPlain: requestIsPlain[at]) else { return nil }
            return at
        default:
            return nil
        }
    }

    /// Applies a line taken by its prefix alone (`positionTakenByPrefix` found its flow
    /// at `at`): of a `flowEnded`, its time; of a `requestEnd` or `responseEnd`, that its
    /// message ended (its body `isComplete`; no totals, truncation or trailers); of the
    /// others, nothing (the line only belongs to its flow, `lastLineFlow`).
    private mutating func apply(_ prefix: CaptureFlowLinePrefix, at: Int) {
        lastLineFlow = prefix.flow
        switch prefix.type {
        case .flowEnded:
            flows[at].ended = Timestamp(microseconds: prefix.time)
            lastLineEndedFlow = true
        case .requestEnd: flows[at].requestBody.isComplete = true
        case .responseEnd: flows[at].responseBody.isComplete = true
        default: break
        }
    }

    /// Applies a line read the full way: directly or, failing that, parsed. `prefix`:
    /// what `CaptureFlowLinePrefix` read of the line, if it was read.
    @inline(__always)
    private mutating func applyWhole(line: UnsafeBufferPointer<UInt8>, number: Int, after prefix: CaptureFlowLinePrefix? = nil) {
        // Most lines are plain enough to read without a JSON value tree; the rest, and
        // any doubt, go through the general parser (same result either way). The direct
        // reader points into the line, so it is applied here.
        let read = if let prefix { CaptureFlatLine(line, into: flatLineSlots, after: prefix) }
                   else { CaptureFlatLine(line, into: flatLineSlots) }
        if let flat = read { return apply(flat, number: number) }
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return }
        guard let parsed = try? CaptureJSONParser.parse(line), let json = CaptureJSONObject(parsed) else {
            return skip(number, "not a JSON object (corrupt line)")
        }
        apply(json, number: number)
    }

    /// Applies one line read by either reader (`CaptureLineFields`).
    private mutating func apply<Line: CaptureLineFields>(_ json: Line, number: Int) {
        let eventType = json.eventType
        guard eventType != nil || json.string(.type) != nil else { return skip(number, "no \"type\"") }
        guard let micros = json.int64(.t) else { return skip(number, "no timestamp \"t\"") }
        let time = Timestamp(microseconds: micros)
        guard let eventType else {  // a newer writer's
            let type = json.string(.type) ?? ""
            if unknownTypes[type] == nil { unknownTypeOrder.append(type) }
            unknownTypes[type, default: 0] += 1
            return
        }

        switch eventType {
        case .connectionOpened:
            guard let id = json.uint64(.conn) else { return skip(number, "connectionOpened without \"conn\"") }
            connections[id] = CapturedConnection(id: ConnectionID(id), client: json.string(.client) ?? "?",
                                                 listener: json.string(.listener) ?? "?", opened: time)
        case .connectionTLS:
            guard let id = json.uint64(.conn), let tls = json.object(.tls).flatMap({ Self.tls($0) }) else {
                return skip(number, "connectionTLS without \"conn\" or a valid \"tls\"")
            }
            guard connections.index(forKey: id) != nil else { return skip(number, "connection \(id) was never opened") }
            connections[id]?.tls = tls
        case .connectionClosed:
            guard let id = json.uint64(.conn) else { return skip(number, "connectionClosed without \"conn\"") }
            guard connections.index(forKey: id) != nil else { return skip(number, "connection \(id) was never opened") }
            connections[id]?.closed = time
            connections[id]?.bytesReceived = json.uint64(.received) ?? 0
            connections[id]?.bytesSent = json.uint64(.sent) ?? 0
            connections[id]?.error = json.object(.error).flatMap { Self.error($0) }
        case .flowStarted:
            guard let id = json.uint64(.flow), let connection = json.uint64(.conn) else {
                return skip(number, "flowStarted without \"flow\" or \"conn\"")
            }
            let kindName = json.string(.kind) ?? "http"
            let kind: FlowKind
            if let known = Self.flowKind(kindName) {
                kind = known
            } else {
                warn("events.jsonl:\(number): flow \(id) has unknown kind \(kindName.debugDescription); shown as http")
                kind = .http
            }
            var flow = CapturedFlow(id: FlowID(id), connection: ConnectionID(connection), kind: kind,
                                    scheme: json.string(.scheme) ?? "http", authority: json.string(.authority) ?? "",
                                    started: time, sessionDirectory: directory)
            if let stream = json.uint64(.stream) {  // v2; v1 wrote an http2Stream line
                guard stream <= UInt64(UInt32.max) else { return skip(number, "flowStarted with an invalid \"stream\"") }
                flow.http2StreamID = UInt32(stream)
            }
            lastLineFlow = id
            // Moved in, not copied (a copy retains every field of the large value).
            if let at = position(of: id) {
                flows[at] = consume flow  // a repeated flowStarted starts the flow over
                if tracksPlainRequests { requestIsPlain[at] = false }
                lastPosition = (id, at)
            } else {
                let at = flows.count
                lastPosition = (id, at)
                // A second flow: both are placed by id from now on (`flowPositions`).
                if at == 1 { flowPositions[flows[0].id.rawValue] = 0 }
                if at >= 1 { flowPositions[id] = at }
                flows.append(consume flow)
                if tracksPlainRequests { requestIsPlain.append(false) }
            }
        case .requestHead:
            guard let at = flowPosition(json, number) else { return }
            guard let method = json.string(.method), let target = json.string(.target),
                  case let isPlain = dropsPlainHeaders && Self.isPlainRequest(method: method, json),
                  let headers = Self.headFields(json, keep: !isPlain) else {
                return skip(number, "requestHead without method, target or headers")
            }
            if tracksPlainRequests { requestIsPlain[at] = isPlain }
            let head = HTTPRequestHead(method: method, target: target, version: Self.version(json.string(.version)),
                                       headers: headers)
            Self.setRequest(head, time: time, endsRequest: json.bool(.ended) == true, of: &flows[at])
        case .body:
            guard let at = flowPosition(json, number) else { return }
            guard let direction = json.string(.dir).flatMap(Self.bodyDirection),
                  let segment = json.int64(.seg), segment >= 1, segment <= 999_999,
                  let offset = json.uint64(.off), let length = json.uint64(.len) else {
                return skip(number, "body without a valid dir, seg, off or len")
            }
            let extent = BodyExtent(segment: Int(segment), offset: offset, length: length, recorded: time)
            if direction == .request {
                Self.addExtent(extent, to: &flows[at].requestBody)
            } else {
                Self.addExtent(extent, to: &flows[at].responseBody)
            }
        case .requestEnd, .responseEnd:
            guard let at = flowPosition(json, number) else { return }
            let trailers = json.headers(.trailers)
            let isRequest = eventType == .requestEnd
            // Changed in place through the index: copying a CapturedFlow out and back
            // retains and releases every field.
            let stored = Self.endMessage(isRequest: isRequest, trailers: trailers, json, of: &flows[at])
            if let captured = json.uint64(.capturedBytes), captured != stored {
                warn("events.jsonl:\(number): flow \(flows[at].id.rawValue) \(isRequest ? "request" : "response") body has \(stored) bytes stored but its end says \(captured)")
            }
        case .upstreamConnected:
            guard let at = flowPosition(json, number) else { return }
            flows[at].serverAddress = json.string(.server)
            flows[at].upstreamReused = json.bool(.reused) ?? false
            flows[at].upstreamTLS = json.object(.tls).flatMap { Self.tls($0) }
        case .responseHead:
            guard let at = flowPosition(json, number) else { return }
            guard let status = json.int64(.status), status >= 0, status < 1000,
                  let headers = Self.headFields(json, keep: !dropsPlainHeaders || !requestIsPlain[at]) else {
                return skip(number, "responseHead without status or headers")
            }
            let head = HTTPResponseHead(version: Self.version(json.string(.version)), status: Int(status),
                                        reason: json.string(.reason) ?? "", headers: headers)
            Self.setResponse(head, time: time, of: &flows[at])
        case .wsMessage:
            guard let at = flowPosition(json, number) else { return }
            guard let message = Self.webSocketMessage(json, time: time) else {
                return skip(number, "wsMessage without a valid dir, opcode, sizes or payload")
            }
            flows[at].kind = .websocket
            flows[at].webSocketMessages.append(message)
        case .grpcMessage:
            guard let at = flowPosition(json, number) else { return }
            guard let message = Self.grpcMessage(json, time: time) else {
                return skip(number, "grpcMessage without a valid dir, index, compressed, off or wireBytes")
            }
            flows[at].grpcMessages.append(message)
        case .flowEnded:
            guard let at = flowPosition(json, number) else { return }
            Self.endFlow(json, time: time, of: &flows[at])
            lastLineEndedFlow = true
        case .http2Stream:
            guard let at = flowPosition(json, number) else { return }
            guard let stream = json.uint64(.stream), stream <= UInt64(UInt32.max) else {
                return skip(number, "http2Stream without a valid \"stream\"")
            }
            flows[at].http2StreamID = UInt32(stream)
        case .http2StreamReset:
            guard let at = flowPosition(json, number) else { return }
            guard let code = json.uint64(.errorCode), code <= UInt64(UInt32.max) else {
                return skip(number, "http2StreamReset without a valid \"errorCode\"")
            }
            flows[at].http2Resets.append(CapturedHTTP2Reset(fromClient: json.string(.side) == "client",
                                                            errorCode: UInt32(code), time: time))
        case .http2Settings:
            guard let id = json.uint64(.conn), let array = json.array(.settings) else {
                return skip(number, "http2Settings without \"conn\" or \"settings\"")
            }
            guard connections.index(forKey: id) != nil else { return skip(number, "connection \(id) was never opened") }
            var settings: [HTTP2Setting] = []
            for element in array {
                guard case .array(let pair) = element, pair.count == 2,
                      let identifier = pair[0].int64Value.flatMap(UInt16.init(exactly:)),
                      let value = pair[1].int64Value.flatMap(UInt32.init(exactly:))
                else { return skip(number, "http2Settings with a malformed parameter") }
                settings.append(HTTP2Setting(identifier: identifier, value: value))
            }
            connections[id]?.http2Settings.append(CapturedHTTP2Settings(fromClient: json.string(.side) == "client",
                                                                        settings: settings, time: time))
        case .http2GoAway:
            guard let id = json.uint64(.conn), let code = json.uint64(.errorCode), code <= UInt64(UInt32.max) else {
                return skip(number, "http2GoAway without \"conn\" or a valid \"errorCode\"")
            }
            guard connections.index(forKey: id) != nil else { return skip(number, "connection \(id) was never opened") }
            let last = min(json.uint64(.lastStream) ?? 0, UInt64(UInt32.max))
            connections[id]?.http2GoAways.append(CapturedHTTP2GoAway(
                fromClient: json.string(.side) == "client", lastStreamID: UInt32(last), errorCode: UInt32(code),
                debugData: json.string(.debug) ?? "", time: time))
        case .flowReplays:
            guard let at = flowPosition(json, number) else { return }
            guard let source = json.uint64(.sourceFlow) else { return skip(number, "flowReplays without \"sourceFlow\"") }
            flows[at].sourceFlow = FlowID(source)
        case .extension:
            guard let name = json.string(.name), let value = json.value(.value) else {
                return skip(number, "extension without \"name\" or \"value\"")
            }
            if json.value(.flow) == nil {
                sessionExtensions[name] = value
            } else {
                guard let at = flowPosition(json, number) else { return }
                flows[at].extensions[name] = value
            }
        case .writerError:
            warn("events.jsonl:\(number): the writer hit an error and stopped: \(json.string(.message) ?? "unknown")")
        }
    }

    // Each of these changes a flow through one `inout` access to `flows[at]` (the
    // array's uniqueness is checked once, not for every field set).

    /// A `requestHead` line's head and time; `endsRequest`: the request ended with its
    /// head (v2 `ended`; no requestEnd line).
    private static func setRequest(_ head: HTTPRequestHead, time: Timestamp, endsRequest: Bool, of flow: inout CapturedFlow) {
        flow.request = head
        flow.requestTime = time
        if endsRequest {
            flow.requestBody.isComplete = true
            flow.requestBody.bodyBytes = flow.requestBody.capturedBytes
        }
    }

    /// A `responseHead` line's head: an interim one appended, else the response and its
    /// time. Flows start as http; a 101 to a WebSocket upgrade (or a 2xx / bridged 101 to
    /// an HTTP/2 extended CONNECT for WebSocket) makes them websocket.
    private static func setResponse(_ head: HTTPResponseHead, time: Timestamp, of flow: inout CapturedFlow) {
        if head.isInterim {
            flow.interimResponses.append(head)
            return
        }
        flow.response = head
        flow.responseTime = time
        if let request = flow.request, WebSocketHandshake.opensWebSocket(request: request, response: head) {
            flow.kind = .websocket
        }
    }

    /// A `requestEnd` (`isRequest`) or `responseEnd` line: that body ends
    /// (`endBody`) and the message's trailers; returns how many bytes its body lines stored.
    private static func endMessage(isRequest: Bool, trailers: HTTPHeaders?, _ json: some CaptureLineFields,
                                   of flow: inout CapturedFlow) -> UInt64 {
        if isRequest {
            flow.requestTrailers = trailers
            return endBody(&flow.requestBody, json)
        }
        flow.responseTrailers = trailers
        return endBody(&flow.responseBody, json)
    }

    /// A `flowEnded` line's timings, time, byte counts and error.
    private static func endFlow(_ json: some CaptureLineFields, time: Timestamp, of flow: inout CapturedFlow) {
        var timings = FlowTimings()
        if let object = json.object(.timings) {
            for key in FlowTimingsCoding.keys {
                if let value = object.int64(key) {
                    FlowTimingsCoding.set(key, Timestamp(microseconds: value), in: &timings)
                }
            }
        }
        flow.timings = timings
        flow.ended = time
        flow.bytesFromClient = json.uint64(.bytesFromClient) ?? 0
        flow.bytesFromServer = json.uint64(.bytesFromServer) ?? 0
        flow.error = json.object(.error).flatMap { Self.error($0) }
    }

    /// A head line's `headers` member: the list, or when `keep` is false an empty one
    /// (`CapturedFlowDetail.withoutPlainHeaders`); nil when it is not a valid list.
    /// Static: a method of the assembler called from `apply` was given a copy of it (its
    /// every field retained and released).
    private static func headFields(_ json: some CaptureLineFields, keep: Bool) -> HTTPHeaders? {
        if keep { return json.headers(.headers) }
        return json.hasHeaders(.headers) ? HTTPHeaders() : nil
    }

    /// The line `bytes` starts as a writer starts an `upstreamConnected` line (`JSONLineBuilder.beginFlowEvent`):
    /// `{"t":`, the time's digits, `,"type":"upstreamConnected",` (`CapturedFlowDetail.replaySend`
    /// does not read such a line). Looks at those bytes only: it is asked of every line of
    /// every flow a replay sends, and most lines are told apart by one byte.
    static func startsAsUpstreamConnected(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let start: StaticString = #"{"t":"#, type: StaticString = #","type":"upstreamConnected","#
        func matches(_ text: StaticString, at offset: Int) -> Bool {
            offset + text.utf8CodeUnitCount <= bytes.count
                && UnsafeBufferPointer(rebasing: bytes[offset..<(offset + text.utf8CodeUnitCount)])
                    .sameBytes(as: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        }
        func isTimeByte(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 || byte == UInt8(ascii: "-") }
        // A time of 16 digits (every one since 2001) ends where the type's member starts,
        // and the first letter of the type's name tells most lines apart at once (an
        // upstreamConnected line with a shorter time has its type's bytes there, no comma).
        var typeAt = start.utf8CodeUnitCount + 16
        if typeAt < bytes.count, bytes[typeAt] == UInt8(ascii: ",") {
            guard typeAt + 9 < bytes.count, bytes[typeAt + 9] == UInt8(ascii: "u") else { return false }
        } else {
            typeAt = start.utf8CodeUnitCount
            while typeAt < bytes.count, isTimeByte(bytes[typeAt]) { typeAt += 1 }
        }
        return matches(start, at: 0) && matches(type, at: typeAt)
            && bytes[start.utf8CodeUnitCount..<typeAt].allSatisfy(isTimeByte)
    }

    /// Whether `request`, read whole, is plain as `isPlainRequest` tells of its line: the
    /// same but for a field name written with an escape (`"`, `\\` or a control byte,
    /// which no HTTP field name has), which the direct reader counts as maybe `Upgrade`.
    private static func isPlain(_ request: HTTPRequestHead?) -> Bool {
        guard let request else { return false }
        return request.method != "CONNECT" && !request.headers.contains(name: "upgrade")
    }

    /// Whether a request head line (of `method`) is a plain HTTP request as
    /// `CapturedFlowDetail.withoutPlainHeaders` tells: not CONNECT, and with no field
    /// that may be `Upgrade` (one whose name the reader does not compare cheaply counts
    /// as one), so no WebSocket handshake or extended CONNECT; false when its `headers`
    /// is not a list.
    private static func isPlainRequest(method: String, _ json: some CaptureLineFields) -> Bool {
        method != "CONNECT" && json.headers(.headers, mayName: "upgrade") == false
    }

    /// Where the flow of a per-flow event is in `flows`; warns and returns nil when
    /// the line has no flow id or its flow never started.
    private mutating func flowPosition(_ json: some CaptureLineFields, _ number: Int) -> Int? {
        guard let id = json.uint64(.flow) else {
            skip(number, "\(json.string(.type) ?? "event") without \"flow\"")
            return nil
        }
        guard let at = knownPosition(id) else {
            if !takenFlows.contains(id) { skip(number, "flow \(id) was never started") }
            return nil
        }
        lastLineFlow = id
        return at
    }

    /// Where flow `id` is in `flows`, if it is being assembled (nothing else is changed
    /// but `lastPosition`).
    @inline(__always)
    private mutating func knownPosition(_ id: UInt64) -> Int? {
        if let last = lastPosition, last.id == id { return last.at }
        guard let at = position(of: id) else { return nil }
        lastPosition = (id, at)
        return at
    }

    /// Where flow `id` is in `flows`, if it is being assembled: the one flow's id
    /// compared, or `flowPositions` (its invariant).
    @inline(__always)
    private func position(of id: UInt64) -> Int? {
        if flows.count <= 1 { return flows.count == 1 && flows[0].id.rawValue == id ? 0 : nil }
        return flowPositions[id]
    }

    /// Takes flow `id` out (it is no longer assembled, and later lines of it are
    /// dropped), with its connection's facts as `finish` gives them.
    mutating func takeFlow(_ id: UInt64) -> CapturedFlow? {
        guard detachFlow(id) != nil else { return nil }
        // The last flow (`detachFlow` put it there), as the optional `popLast` makes: not
        // unwrapped and wrapped again (each a copy of the large value).
        return flows.popLast()
    }

    /// Takes flow `id`'s place out of the bookkeeping (it is then the last of `flows`,
    /// which the caller removes) and gives it its connection's facts, in place (a flow
    /// changed in a local `var` and returned would be copied, every field retained and
    /// released); its place, or nil when it is not being assembled.
    private mutating func detachFlow(_ id: UInt64) -> Int? {
        guard let at = position(of: id) else { return nil }
        takenFlows.insert(id)
        lastPosition = nil
        let last = flows.count - 1
        if at != last {
            flows.swapAt(at, last)
            if tracksPlainRequests { requestIsPlain.swapAt(at, last) }
        }
        // `flowPositions` as its invariant has it once `flows[last]` is removed.
        if last == 1 {  // one flow is left: found by its id
            flowPositions.removeValue(forKey: id)
            flowPositions.removeValue(forKey: flows[0].id.rawValue)
        } else if last > 1 {
            flowPositions.removeValue(forKey: id)
            if at != last { flowPositions[flows[at].id.rawValue] = at }
        }
        if tracksPlainRequests { requestIsPlain.removeLast() }
        if let connection = connections.index(forKey: flows[last].connection.rawValue) {
            Self.giveConnectionFacts(of: &connections.values[connection], to: &flows[last])
        }
        return last
    }

    /// Sets the flow's facts of its connection (`clientAddress`, `clientTLS`). The
    /// connection is passed in place (`inout`, not changed): read through a dictionary's
    /// getter, the whole value would be copied (its every field retained and released).
    private static func giveConnectionFacts(of connection: inout CapturedConnection, to flow: inout CapturedFlow) {
        flow.clientAddress = connection.client
        flow.clientTLS = connection.tls
    }

    /// The ids of the flows not taken out yet (those that never ended), in id order.
    var remainingFlowIDs: [UInt64] { flows.indices.map { flows[$0].id.rawValue }.sorted() }

    /// The session read so far. Call once, at the end: the flows are moved out.
    mutating func finish(metadata: SessionMetadata, isBeingWritten: Bool = false) -> CapturedSession {
        for type in unknownTypeOrder {
            let count = unknownTypes[type] ?? 0
            warn("events.jsonl: skipped \(count) event\(count == 1 ? "" : "s") of unknown type \(type.debugDescription) (written by a newer tapline?)")
        }
        if suppressedWarnings > 0 {
            warnings.append("... and \(suppressedWarnings) more warnings")
        }
        // Flows mostly start in id order; otherwise sort the positions, not the large values.
        var assembled = flows
        if !flows.indices.dropFirst().allSatisfy({ flows[$0 - 1].id < flows[$0].id }) {
            assembled = flows.indices.sorted { flows[$0].id < flows[$1].id }.map { flows[$0] }
        }
        flows = []
        requestIsPlain = []
        flowPositions = [:]
        lastPosition = nil
        for index in assembled.indices {
            if let connection = connections[assembled[index].connection.rawValue] {
                assembled[index].clientAddress = connection.client
                assembled[index].clientTLS = connection.tls
            }
        }
        return CapturedSession(directory: directory, metadata: metadata, flows: assembled,
                               connections: connections.values.sorted { $0.id < $1.id }, warnings: warnings,
                               isBeingWritten: isBeingWritten, extensions: sessionExtensions)
    }

    /// Appends a `body` line's extent. Until the message's end line gives the total,
    /// `bodyBytes` is the stored count, so a message that never ended (torn, aborted,
    /// still streaming) reports the bytes that were captured rather than 0.
    private static func addExtent(_ extent: BodyExtent, to body: inout CapturedBody) {
        body.extents.append(extent)
        body.capturedBytes += extent.length
        if !body.isComplete { body.bodyBytes = body.capturedBytes }
    }

    /// Marks `body` complete with the totals of its requestEnd/responseEnd line;
    /// returns how many bytes its body lines stored.
    private static func endBody(_ body: inout CapturedBody, _ json: some CaptureLineFields) -> UInt64 {
        body.isComplete = true
        body.bodyBytes = json.uint64(.bodyBytes) ?? body.capturedBytes
        body.truncated = json.bool(.truncated) ?? false
        return body.capturedBytes
    }

    // MARK: - Field decoding

    /// `[[name, value], ...]` (both strings); nil if any element is not such a pair.
    static func headers(_ array: [CaptureJSONValue]) -> HTTPHeaders? {
        var fields: [HTTPHeaders.Field] = []
        fields.reserveCapacity(array.count)
        for element in array {
            guard case .array(let pair) = element, pair.count == 2,
                  case .string(let name) = pair[0], case .string(let value) = pair[1] else { return nil }
            fields.append((name, value))
        }
        return HTTPHeaders(fields)
    }

    static func tls(_ json: some CaptureLineFields) -> TLSDetails? {
        guard let version = json.string(.version), let cipher = json.string(.cipher) else { return nil }
        var peer: CertificateSummary?
        if let object = json.object(.peer) {
            peer = CertificateSummary(subject: object.string(.subject) ?? "", issuer: object.string(.issuer) ?? "",
                                      sha256Fingerprint: object.string(.sha256) ?? "")
        }
        return TLSDetails(version: version, cipher: cipher, serverName: json.string(.sni),
                          alpn: json.string(.alpn), peerCertificate: peer)
    }

    static func webSocketMessage(_ json: some CaptureLineFields, time: Timestamp) -> CapturedWebSocketMessage? {
        guard let direction = json.string(.dir), direction == "client" || direction == "server",
              let opcode = json.string(.opcode), let wireBytes = json.uint64(.wireBytes),
              let size = json.uint64(.size) else { return nil }
        var message = CapturedWebSocketMessage(time: time, fromClient: direction == "client", opcode: opcode,
                                               wireBytes: wireBytes, size: size, compressed: json.bool(.compressed) ?? false,
                                               truncated: json.bool(.truncated) ?? false,
                                               decodingCapped: json.bool(.capped) ?? false,
                                               undecoded: json.bool(.undecoded) ?? false,
                                               capSize: json.bool(.capped) == true ? json.uint64(.cap) : nil)
        if let code = json.int64(.code) {
            message.closeCode = Int(code)
            message.closeReason = json.string(.reason) ?? ""
        }
        if let text = json.string(.text) {
            message.inlinePayload = Array(text.utf8)
        } else if let encoded = json.string(.base64) {
            guard let bytes = Base64.decode(encoded) else { return nil }
            message.inlinePayload = bytes
        } else if let segment = json.int64(.seg), segment >= 1, segment <= 999_999,
                  let offset = json.uint64(.off), let length = json.uint64(.len) {
            message.extents = [BodyExtent(segment: Int(segment), offset: offset, length: length)]
        } else if let list = json.array(.extents), !list.isEmpty {
            for element in list {
                guard case .array(let triple) = element, triple.count == 3,
                      case .integer(let segment) = triple[0], segment >= 1, segment <= 999_999,
                      case .integer(let offset) = triple[1], offset >= 0,
                      case .integer(let length) = triple[2], length >= 0 else { return nil }
                message.extents.append(BodyExtent(segment: Int(segment), offset: UInt64(offset), length: UInt64(length)))
            }
        } else {
            return nil
        }
        return message
    }

    /// A `grpcMessage` line's entry; nil when a required field is missing or invalid
    /// (`wireBytes` may be absent only on a `malformed` entry).
    static func grpcMessage(_ json: some CaptureLineFields, time: Timestamp) -> CapturedGRPCMessage? {
        guard let direction = json.string(.dir).flatMap(Self.bodyDirection),
              let index = json.int64(.index), index >= 0, let compressed = json.bool(.compressed),
              let offset = json.uint64(.off) else { return nil }
        let wireBytes = json.int64(.wireBytes).flatMap { $0 >= 0 ? Int($0) : nil }
        let kind: CapturedGRPCMessage.Kind
        if let reason = json.string(.malformed) {
            kind = .malformed(reason: reason, cut: json.bool(.cut) ?? false)
        } else {
            guard wireBytes != nil else { return nil }
            kind = json.bool(.trailers) == true ? .webTrailers : .message
        }
        return CapturedGRPCMessage(direction: direction, index: Int(index), kind: kind, compressed: compressed,
                                   wireBytes: wireBytes, payloadOffset: offset,
                                   truncated: json.bool(.truncated) ?? false, time: time)
    }

    static func error(_ json: some CaptureLineFields) -> RecordedError? {
        guard let kind = json.string(.kind) else { return nil }
        return RecordedError(kind: kind, message: json.string(.message) ?? "")
    }

    /// `FlowKind(rawValue: name)`, the commonest kind compared first on its own (a
    /// listed string, `CaptureJSONKnownStrings`, is equal to it at once; the raw-value
    /// initialiser goes through the standard library's string switch for any).
    @inline(__always)
    static func flowKind(_ name: String) -> FlowKind? {
        name == FlowKind.http.rawValue ? .http : FlowKind(rawValue: name)
    }

    /// `BodyDirection(rawValue: name)`, compared as `flowKind` compares.
    @inline(__always)
    static func bodyDirection(_ name: String) -> BodyDirection? {
        name == BodyDirection.response.rawValue ? .response
            : name == BodyDirection.request.rawValue ? .request : BodyDirection(rawValue: name)
    }

    /// `HTTP/1.1` -> 1.1, `HTTP/2` -> 2.0; anything else reads as HTTP/1.1.
    static func version(_ text: String?) -> HTTPVersion {
        // The two versions nearly every line has, without splitting the text.
        if text == "HTTP/1.1" { return .http1_1 }
        if text == "HTTP/2" { return .http2 }
        guard let text, text.hasPrefix("HTTP/") else { return .http1_1 }
        let numbers = text.dropFirst(5).split(separator: ".")
        guard let major = numbers.first.flatMap({ Int($0) }) else { return .http1_1 }
        let minor = numbers.count > 1 ? Int(numbers[1]) ?? 0 : 0
        return HTTPVersion(major: major, minor: minor)
    }
}
