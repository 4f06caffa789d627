import TaplineCapture
import TaplineFlow
import TaplineWire

/// What a replay will send: the selected flows that can be replayed (`items`, in
/// the source's flow order), those that cannot and why (`skipped`), and the
/// `ReplayScheduler` input: the items grouped by recorded connection, each with its
/// recorded start offset. Built once, before anything is sent; immutable.
public struct ReplayPlan {
    public let items: [ReplayItem]
    public let skipped: [ReplaySkippedFlow]
    /// Items sent otherwise than recorded, in words for the user (`flow 3: ...`): an RFC
    /// 8441 WebSocket (over HTTP/2) goes as an HTTP/1.1 Upgrade to an `http://` target.
    /// (One whose server turns out not to take it over HTTP/2 is noted while replaying:
    /// `ReplayRunner.notes`.)
    public let notes: [String]
    /// Per recorded connection (in order of its first flow), its flows in start order.
    public let connections: [[ReplayScheduledFlow]]

    /// Plans `flows` (already selected) of a session.
    ///
    /// Skipped, with the reason: tunnels and failed TLS handshakes (no request), flows
    /// whose request was not recorded whole (a session not closed), flows with a body
    /// the capture truncated (`--max-body-capture`) unless `allowTruncated`, flows whose
    /// stored request body is missing from the session directory, WebSocket flows whose
    /// handshake was refused or one of whose messages was not recorded whole, and
    /// requests `ReplayRequestRewriter` refuses.
    /// - Parameter replacementBodies: request bodies sent instead of the stored ones, by
    ///   flow (`tapline replay --edit`, `GRPCRequestEdit`).
    public init(flows: [CapturedFlow], rules: ReplayTargetRules, allowTruncated: Bool,
                replacementBodies: [FlowID: [UInt8]] = [:]) {
        var items: [ReplayItem] = []
        var skipped: [ReplaySkippedFlow] = []
        var notes: [String] = []
        for flow in flows {
            switch Self.request(for: flow, rules: rules, allowTruncated: allowTruncated) {
            case .success(let recorded):
                let request = replacementBodies[flow.id].map(recorded.replacingBody) ?? recorded
                let script = flow.kind == .websocket
                    ? WebSocketReplayScript(messages: flow.webSocketMessages, opened: flow.responseTime ?? flow.started) : nil
                items.append(ReplayItem(source: flow, request: request, webSocket: script))
                if flow.kind == .websocket, flow.isExtendedConnectWebSocket, !request.isExtendedConnect {
                    notes.append(ReplayNotes.webSocketOverHTTP1(flow: flow.id, because: "the target speaks HTTP/1.1 (http://)"))
                }
            case .failure(let reason): skipped.append(ReplaySkippedFlow(source: flow, reason: reason))
            }
        }
        self.items = items
        self.skipped = skipped
        self.notes = notes
        connections = Self.schedule(items)
    }

    private static func request(for flow: CapturedFlow, rules: ReplayTargetRules,
                                allowTruncated: Bool) -> Result<ReplayRequest, ReplaySkipReason> {
        switch flow.kind {
        case .websocket:
            if let reason = webSocketSkipReason(flow) { return .failure(reason) }
        case .tunnel: return .failure(ReplaySkipReason("a tunnel has no HTTP request to replay"))
        case .tlsFailed: return .failure(ReplaySkipReason("a failed TLS handshake has no request to replay"))
        case .http: break
        }
        guard flow.request != nil, flow.requestBody.isComplete else {
            return .failure(ReplaySkipReason("its request was not recorded whole (the session was not closed when it was read)"))
        }
        if !allowTruncated {
            for (name, body) in [("request", flow.requestBody), ("response", flow.responseBody)] where body.truncated {
                return .failure(ReplaySkipReason("its \(name) body was truncated by --max-body-capture (kept \(body.capturedBytes) of \(body.bodyBytes) bytes); --allow-truncated sends what was kept"))
            }
        }
        if let path = flow.requestBody.missingSegmentPath {
            return .failure(ReplaySkipReason("its stored request body is missing: \(path) does not exist (damaged session)"))
        }
        do {
            return .success(try ReplayRequestRewriter.request(for: flow, rules: rules))
        } catch {
            return .failure(error)
        }
    }

    /// Why a WebSocket flow cannot be replayed as recorded, if it cannot.
    private static func webSocketSkipReason(_ flow: CapturedFlow) -> ReplaySkipReason? {
        guard let request = flow.request, let response = flow.response,
              WebSocketHandshake.opensWebSocket(request: request, response: response) else {
            return ReplaySkipReason("its WebSocket handshake did not open a WebSocket")
        }
        for (position, message) in flow.webSocketMessages.enumerated() where message.fromClient && (message.truncated || message.undecoded) {
            return ReplaySkipReason("its WebSocket message \(position + 1) (from the client) was not recorded whole (kept \(message.storedBytes) of \(message.size) bytes)")
        }
        return nil
    }

    /// Groups the items by recorded connection; an HTTP/2 flow that started before the
    /// previous flow of its connection ended overlaps it.
    private static func schedule(_ items: [ReplayItem]) -> [[ReplayScheduledFlow]] {
        guard let first = items.map(\.source.started).min() else { return [] }
        var groups: [[ReplayScheduledFlow]] = []
        var groupOf: [ConnectionID: Int] = [:]
        var lastOf: [Int: CapturedFlow] = [:]
        let order = items.indices.sorted { (items[$0].source.started, $0) < (items[$1].source.started, $1) }
        for index in order {
            let flow = items[index].source
            let group: Int
            if let known = groupOf[flow.connection] {
                group = known
            } else {
                group = groups.count
                groupOf[flow.connection] = group
                groups.append([])
            }
            var overlaps = false
            if let previous = lastOf[group], flow.request?.version == .http2, previous.request?.version == .http2 {
                overlaps = flow.started < (previous.ended ?? flow.started)
            }
            groups[group].append(ReplayScheduledFlow(item: index, offsetMicroseconds: flow.started.microseconds - first.microseconds,
                                                     overlapsPrevious: overlaps))
            lastOf[group] = flow
        }
        return groups
    }
}
