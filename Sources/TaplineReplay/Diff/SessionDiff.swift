import TaplineCapture
import TaplineExport
import TaplineFlow
import TaplineWire

/// Compares two lists of captured flows (sessions A and B, already filtered):
/// pairs them (`FlowPairing` over each request's `RequestKey`), then compares
/// each pair's outcome, final status, response headers and trailers
/// (`HeaderComparison`), gRPC status, response body after content decoding
/// (`BodyComparison`) or, when both are gRPC calls, their messages and status details
/// (`GRPCCallComparison`), WebSocket messages per direction, and, with `slowerThan`,
/// timing. Requests are what pairs flows; what is compared is what came back.
///
/// Reads bodies from the sessions' segment files, one body at a time, at most
/// `options.bodyLimit` bytes each: memory is bounded by two bodies (or two
/// messages) plus the flows' metadata. Runs on the caller's thread; a value type.
public struct SessionDiff: Sendable {
    public var options: SessionDiffOptions

    public init(options: SessionDiffOptions = SessionDiffOptions()) {
        self.options = options
    }

    /// - Parameter bReplaysA: B is a replay of A (`SessionMetadata.sourceSession`): a B
    ///   flow is first paired with the A flow it names (`CapturedFlow.sourceFlow`).
    /// - Throws: `SessionDiffError` naming the flow whose stored bytes could not be read.
    public func report(a: [CapturedFlow], b: [CapturedFlow], bReplaysA: Bool = false) throws(SessionDiffError) -> SessionDiffReport {
        var keysA: [RequestKey] = []
        for flow in a { keysA.append(try requestKey(flow)) }
        var keysB: [RequestKey] = []
        for flow in b { keysB.append(try requestKey(flow)) }
        var links: [(a: Int, b: Int)] = []
        if bReplaysA {
            var positionInA: [FlowID: Int] = [:]
            for (index, flow) in a.enumerated() { positionInA[flow.id] = index }
            for (index, flow) in b.enumerated() {
                if let source = flow.sourceFlow, let partner = positionInA[source] { links.append((partner, index)) }
            }
        }
        let paired = FlowPairing.pair(keysA, keysB, links: links)
        var comparisons: [FlowComparison] = []
        for (left, right) in paired.pairs {
            comparisons.append(FlowComparison(a: a[left], b: b[right], differences: try differences(a[left], b[right])))
        }
        return SessionDiffReport(comparisons: comparisons, unpairedA: paired.unpairedA.map { a[$0] },
                                 unpairedB: paired.unpairedB.map { b[$0] })
    }

    func requestKey(_ flow: CapturedFlow) throws(SessionDiffError) -> RequestKey {
        guard let request = flow.request else {
            return RequestKey(method: flow.kind.rawValue, path: flow.authority, query: [], bodyDigest: "")
        }
        let url = RequestURL(flow: flow)
        let query = url?.query.map { $0.name + "=" + ($0.value ?? "") } ?? []
        var digest = ""
        if flow.requestBody.capturedBytes > 0 {
            let bytes = try load(flow, .request, headers: request.headers).bytes
            if let messages = options.grpcDecoder.requestMessages(target: request.target, headers: request.headers, body: bytes) {
                digest = RequestBodyDigest.grpcDigest(messages)
            } else {
                digest = RequestBodyDigest.digest(bytes, mediaType: MediaType(request.headers.first(name: "Content-Type")))
            }
        }
        return RequestKey(method: request.method, path: url?.path ?? request.target, query: query, bodyDigest: digest)
    }

    /// How `b` differs from `a`, in `FlowComparison.differences`' order.
    ///
    /// - Throws: `SessionDiffError` naming the flow whose stored bytes could not be read.
    public func differences(_ a: CapturedFlow, _ b: CapturedFlow) throws(SessionDiffError) -> [FlowDifference] {
        try differences(a, b, responseBodyOfB: .stored)
    }

    /// Where B's response body is compared from: its session, as for any flow, or what a
    /// replay found as the body arrived (`ReplayedResponseBody`), so that a replayed flow
    /// is compared without its session being read back.
    public enum ResponseBodyOfB {
        /// Read from B's segment files.
        case stored
        /// Byte for byte A's whole stored body (A's Content-Encoding applies to both): equal.
        case sameBytesAsA
        /// Loaded already (at most `SessionDiffOptions.bodyLimit` bytes, decoded).
        case loaded(LoadedBody)
    }

    /// `differences(_:_:)` with B's response body given as `responseBodyOfB`; the same
    /// rules, in the same order.
    /// - Parameter requestBodyOfB: what B sent, when B's session is not read (a replay's
    ///   request: its source's stored body, or the `--edit` replacement); nil: B's stored
    ///   body, or A's when `responseBodyOfB` is not `.stored` (a replay re-sends A's).
    ///   Only a gRPC call's request messages are compared.
    public func differences(_ a: CapturedFlow, _ b: CapturedFlow,
                            responseBodyOfB: ResponseBodyOfB, requestBodyOfB: [UInt8]? = nil) throws(SessionDiffError) -> [FlowDifference] {
        var found: [FlowDifference] = []
        if a.error?.kind != b.error?.kind { found.append(.outcome(a: a.error?.kind, b: b.error?.kind)) }
        // A WebSocket that opened on both sides opened alike, whether by 101 or (RFC 8441) by
        // 200: its status, and the fields that only say how it opened, are not compared.
        let openedWebSockets = Self.openedWebSocket(a) && Self.openedWebSocket(b)
        if a.clientStatus != b.clientStatus, !openedWebSockets {
            found.append(.status(a: a.clientStatus, b: b.clientStatus))
        }
        let calls = try grpcCalls(a, b, requestBodyOfB: requestBodyOfB, responseBodyOfB: responseBodyOfB)
        let compared: (HTTPHeaders?) -> HTTPHeaders = { fields in
            let all = fields ?? HTTPHeaders()
            if openedWebSockets { return Self.withoutHandshakeFields(all) }
            return calls == nil ? all : GRPCCallComparison.comparedFields(all)
        }
        let headerChanges = options.headers.differences(compared(a.response?.headers), compared(b.response?.headers))
        if !headerChanges.isEmpty { found += headerChanges.map(FlowDifference.header) }
        // No trailers on either side (nearly every flow) compare equal without building two empty lists.
        if a.responseTrailers != nil || b.responseTrailers != nil {
            let trailerChanges = options.headers.differences(compared(a.responseTrailers), compared(b.responseTrailers))
            if !trailerChanges.isEmpty { found += trailerChanges.map(FlowDifference.trailer) }
        }
        if a.grpcStatus != b.grpcStatus { found.append(.grpcStatus(a: a.grpcStatus, b: b.grpcStatus)) }
        if let calls {
            found += GRPCCallComparison(json: JSONDiff(ignoredPaths: options.ignoredPaths)).differences(calls.a, calls.b)
            // A message that could not be decoded (not protobuf, no schema fits) compares
            // by its reason only; the response bytes decide then.
            let undecoded = (calls.a.messages + calls.b.messages).contains { $0.direction == .response && $0.content.json == nil }
            if undecoded, let body = try responseBodyDifference(a, b, responseBodyOfB) { found.append(.body(body)) }
        } else if let body = try responseBodyDifference(a, b, responseBodyOfB) {
            found.append(.body(body))
        }
        let messageChanges = try messageDifferences(a, b)
        if !messageChanges.isEmpty { found += messageChanges.map(FlowDifference.message) }
        if let ratio = options.slowerThan, let before = a.durationMilliseconds, let after = b.durationMilliseconds,
           after > before * ratio {
            found.append(.slower(aMilliseconds: before, bMilliseconds: after))
        }
        return found
    }

    private var bodyComparison: BodyComparison {
        BodyComparison(json: JSONDiff(ignoredPaths: options.ignoredPaths))
    }

    private func responseBodyDifference(_ a: CapturedFlow, _ b: CapturedFlow,
                                        _ bodyOfB: ResponseBodyOfB) throws(SessionDiffError) -> BodyDifference? {
        guard let headersA = a.response?.headers, let headersB = b.response?.headers else { return nil }
        let loadedB: LoadedBody
        switch bodyOfB {
        case .sameBytesAsA: return nil
        case .loaded(let body): loadedB = body
        case .stored: loadedB = try load(b, .response, headers: headersB)
        }
        let loadedA = try load(a, .response, headers: headersA)
        // Whole bodies with equal bytes are equal (`BodyComparison`'s first rule): decided
        // here, so the common case of a replay parses no Content-Type.
        if loadedA.complete, loadedB.complete, loadedA.bytes == loadedB.bytes { return nil }
        let left = ComparedBody(loadedA, contentType: headersA.first(name: "Content-Type"))
        let right = ComparedBody(loadedB, contentType: headersB.first(name: "Content-Type"))
        return bodyComparison.difference(left, right)
    }

    private func load(_ flow: CapturedFlow, _ direction: BodyDirection, headers: HTTPHeaders) throws(SessionDiffError) -> LoadedBody {
        do {
            return try LoadedBody.load(flow.body(direction), headers: headers, limit: options.bodyLimit)
        } catch {
            throw SessionDiffError(session: flow.requestBody.sessionDirectory, flow: flow.id,
                                   part: "\(direction.rawValue) body", cause: error)
        }
    }

    /// A WebSocket handshake response's fields without those that differ between a 101 and
    /// an RFC 8441 200: the pseudo-headers (`:status`), `Upgrade` and `Connection`.
    private static func withoutHandshakeFields(_ headers: HTTPHeaders) -> HTTPHeaders {
        var kept = HTTPHeaders()
        for (name, value) in headers where !name.hasPrefix(":") {
            let lower = name.lowercased()
            if lower != "upgrade", lower != "connection" { kept.add(name: name, value: value) }
        }
        return kept
    }

    private static func openedWebSocket(_ flow: CapturedFlow) -> Bool {
        guard flow.kind == .websocket, let request = flow.request, let response = flow.response else { return false }
        return WebSocketHandshake.opensWebSocket(request: request, response: response)
    }

    /// Data and close messages compared per direction, position by position (pings and pongs are not compared).
    private func messageDifferences(_ a: CapturedFlow, _ b: CapturedFlow) throws(SessionDiffError) -> [WebSocketMessageDifference] {
        guard !a.webSocketMessages.isEmpty || !b.webSocketMessages.isEmpty else { return [] }
        var found: [WebSocketMessageDifference] = []
        for fromClient in [true, false] {
            let left = Self.comparedMessages(a, fromClient: fromClient)
            let right = Self.comparedMessages(b, fromClient: fromClient)
            for index in 0..<max(left.count, right.count) {
                let change: WebSocketMessageDifference.Change?
                if index >= right.count {
                    change = .missing(type: left[index].message.opcode, size: left[index].message.size)
                } else if index >= left.count {
                    change = .extra(type: right[index].message.opcode, size: right[index].message.size)
                } else {
                    change = try messageChange(a, left[index], b, right[index])
                }
                if let change { found.append(WebSocketMessageDifference(fromClient: fromClient, index: index, change: change)) }
            }
        }
        return found
    }

    private static func comparedMessages(_ flow: CapturedFlow, fromClient: Bool) -> [(position: Int, message: CapturedWebSocketMessage)] {
        flow.webSocketMessages.enumerated()
            .filter { $0.element.fromClient == fromClient && $0.element.opcode != "ping" && $0.element.opcode != "pong" }
            .map { ($0.offset, $0.element) }
    }

    private func messageChange(_ flowA: CapturedFlow, _ a: (position: Int, message: CapturedWebSocketMessage),
                               _ flowB: CapturedFlow, _ b: (position: Int, message: CapturedWebSocketMessage))
        throws(SessionDiffError) -> WebSocketMessageDifference.Change? {
        let typeA = Self.typeText(a.message)
        let typeB = Self.typeText(b.message)
        guard typeA == typeB else { return .type(a: typeA, b: typeB) }
        let left = try comparedPayload(flowA, a)
        let right = try comparedPayload(flowB, b)
        return bodyComparison.difference(left, right).map(WebSocketMessageDifference.Change.payload)
    }

    /// `text`, `binary`, or `close 1000 reason` (a close is compared by its code and reason).
    private static func typeText(_ message: CapturedWebSocketMessage) -> String {
        guard message.opcode == "close" else { return message.opcode }
        return ["close", message.closeCode.map(String.init), message.closeReason.flatMap { $0.isEmpty ? nil : $0 }]
            .compactMap { $0 }.joined(separator: " ")
    }

    private func comparedPayload(_ flow: CapturedFlow, _ entry: (position: Int, message: CapturedWebSocketMessage))
        throws(SessionDiffError) -> ComparedBody {
        let message = entry.message
        guard message.opcode != "close" else { return ComparedBody(bytes: []) }
        let bytes: [UInt8]
        do {
            bytes = try message.payload(sessionDirectory: flow.requestBody.sessionDirectory, limit: options.bodyLimit)
        } catch {
            throw SessionDiffError(session: flow.requestBody.sessionDirectory, flow: flow.id,
                                   part: "WebSocket message \(entry.position + 1)", cause: error)
        }
        var reason: String?
        if message.truncated || message.undecoded {
            reason = "the capture kept only \(message.storedBytes) of \(message.size) bytes of this message"
        } else if UInt64(bytes.count) < message.storedBytes {
            reason = "message larger than \(options.bodyLimit) bytes; only the start was compared"
        }
        return ComparedBody(bytes: bytes, incompleteReason: reason,
                            origin: message.opcode == "text" ? .textMessage : .binaryMessage)
    }
}
