import Foundation
import TaplineCapture
import TaplineFlow
import TaplineWire

/// What a replay will send: the selected flows that can be replayed (its items, in
/// the source's flow order), those that cannot and why (`skipped`), and the
/// `ReplayScheduler` input: the items grouped by recorded connection, each with its
/// recorded start offset. Built once, before anything is sent; immutable.
///
/// A plan streamed from a session (`stream`) holds no flow: per item, its place in the
/// session's `CapturedFlowIndex` (4 bytes) and its schedule entry (~24 bytes); `item`
/// reads the flow again when it is sent. A plan made of flows (`init(flows:...)`) holds them.
///
/// Thread ownership: a streamed plan's `item` reads through its index (and remembers
/// the last destination and request fields), one thread at a time; a plan for another thread is `withOwnReader()`.
public struct ReplayPlan {
    /// Where the items' flows are.
    private enum Items {
        /// Held, with their requests (a plan made of flows).
        case held([ReplayItem])
        /// Read again from the session, one at a time: the items' ids and index positions,
        /// and the destinations and request fields worked out for them as they are read
        /// (same owner as the index).
        /// `bodies`: for a plan whose planning read did not look at the flows' bodies
        /// (`CapturedFlowDetail.replayPlan`), the segment files looked up when an item's
        /// bodies are checked as it is read again (same owner); nil when the plan checked them.
        case indexed(CapturedFlowIndex, ids: [FlowID], positions: [Int32], destinations: ReplayDestinationMemo,
                     fields: ReplayRequestFieldsMemo, bodies: ReplaySegmentPresence?)
    }

    private var storage: Items
    private let rules: ReplayTargetRules
    /// `--allow-truncated`: a body the capture truncated is sent as kept (else its flow is skipped).
    private let allowTruncated: Bool
    /// Selected flows not sent, and why; a streamed plan's as its `detail` read them
    /// (their kind, method and URL are the whole flow's, `CapturedFlowDetail`). A plan
    /// streamed with `.replayPlan` leaves out those skipped only for their bodies
    /// (truncated, or a segment missing): `item` throws for them, with the same reason.
    public let skipped: [ReplaySkippedFlow]
    /// Items sent otherwise than recorded, in words for the user (`flow 3: ...`): an RFC
    /// 8441 WebSocket (over HTTP/2) goes as an HTTP/1.1 Upgrade to an `http://` target.
    /// (One whose server turns out not to take it over HTTP/2 is noted while replaying:
    /// `ReplayRunner.notes`.)
    public let notes: [String]
    /// Request bodies sent instead of the stored ones, by source flow (`tapline replay
    /// --edit`, `GRPCRequestEdit`); `item` applies them.
    public var replacementBodies: [FlowID: [UInt8]] = [:]
    /// Per recorded connection (in order of its first flow), its flows in start order.
    public let connections: [[ReplayScheduledFlow]]

    /// What the plan needs of a flow it will send, besides reading it again.
    private struct Planned {
        let id: FlowID
        let position: Int32
        let connection: ConnectionID
        let started: Timestamp
        let ended: Timestamp?
        let isHTTP2: Bool

        init(_ flow: borrowing CapturedFlow, position: Int) {
            id = flow.id
            self.position = Int32(position)
            connection = flow.connection
            started = flow.started
            ended = flow.ended
            isHTTP2 = flow.request?.version == .http2
        }
    }

    /// Plans `flows` (already selected) of a session.
    ///
    /// Skipped, with the reason: tunnels and failed TLS handshakes (no request), flows
    /// whose request was not recorded whole or that had not ended (a session not
    /// closed), flows with a body the capture truncated (`--max-body-capture`) unless
    /// `allowTruncated`, flows whose stored request or response body is missing from
    /// the session directory (it could not be sent or compared), WebSocket flows whose
    /// handshake was refused or one of whose messages was not recorded whole, and
    /// requests `ReplayRequestRewriter` refuses.
    public init(flows: [CapturedFlow], rules: ReplayTargetRules, allowTruncated: Bool) {
        var items: [ReplayItem] = []
        var planned: [Planned] = []
        var skipped: [ReplaySkippedFlow] = []
        var notes: [String] = []
        let segments = ReplaySegmentPresence()
        let destinations = ReplayDestinationMemo(rules: rules)
        let fields = ReplayRequestFieldsMemo()
        for flow in flows {
            let checked = Self.destination(for: flow, allowTruncated: allowTruncated, bodies: segments,
                                           destinations: destinations)
                .flatMap { destination in
                    Result { () throws(ReplaySkipReason) in (destination, try ReplayRequestRewriter.request(for: flow, rules: rules, to: destination, fields: fields)) }
                }
            switch checked {
            case .success(let (destination, request)):
                planned.append(Planned(flow, position: items.count))
                items.append(Self.item(flow, request: request))
                if let note = Self.note(flow, destination: destination) { notes.append(note) }
            case .failure(let reason): skipped.append(ReplaySkippedFlow(source: flow, reason: reason))
            }
        }
        storage = .held(items)
        self.rules = rules
        self.allowTruncated = allowTruncated
        self.skipped = skipped
        self.notes = notes
        connections = Self.schedule(planned)
    }

    private init(index: CapturedFlowIndex, planned: [Planned], rules: ReplayTargetRules, skipped: [ReplaySkippedFlow],
                 notes: [String], checksBodiesWhenSent: Bool, allowTruncated: Bool) {
        storage = .indexed(index, ids: planned.map(\.id), positions: planned.map(\.position),
                           destinations: ReplayDestinationMemo(rules: rules), fields: ReplayRequestFieldsMemo(),
                           bodies: checksBodiesWhenSent ? ReplaySegmentPresence() : nil)
        self.allowTruncated = allowTruncated
        self.rules = rules
        self.skipped = skipped
        self.notes = notes
        connections = Self.schedule(planned)
    }

    /// Plans the flows of the session in `directory` that `select` picks, reading the
    /// session once, front to back (`CapturedSession.stream`), by the rules of
    /// `init(flows:...)`; items and skipped flows are in flow id order. `detail`: what of
    /// each flow `select` needs (the plan needs no more than `.replayPlan`; each item's
    /// flow is read again whole when it is sent).
    ///
    /// With `.replayPlan`, a line read by its first members alone (`CapturedFlowDetail`)
    /// that is damaged further on is not seen here (no warning, and the flow is planned
    /// as if it were whole): `item` finds it when it reads the flow again, and throws, so
    /// the flow is reported as skipped, the reason naming the line. Nor are a plain
    /// request's bodies read: a flow skipped only for them (truncated without
    /// `allowTruncated`, a segment missing) is planned, and `item` throws for it with the
    /// reason a whole read gives; a flow skipped for a later check (it had not ended, or its
    /// destination is refused) is read again here, so its reason is the one a whole read
    /// gives (the bodies are checked before those).
    ///
    /// - Returns: the plan, and the session without its flows (metadata, warnings).
    /// - Throws: `CaptureError` as `CapturedSession.open`.
    public static func stream(directory: String, detail: CapturedFlowDetail = .whole, select: (CapturedFlow) -> Bool,
                              rules: ReplayTargetRules, allowTruncated: Bool) throws(CaptureError) -> (plan: ReplayPlan, session: CapturedSession) {
        var planned: [Planned] = []
        var skipped: [ReplaySkippedFlow] = []
        var notes: [(FlowID, String)] = []
        // Flows skipped, without their bodies looked at, for a check that comes after the
        // bodies': their reason is settled once the session is read (`settledReason`).
        var skippedAfterBodies: [(flow: CapturedFlow, position: Int, reason: ReplaySkipReason)] = []
        let checksBodiesWhenSent = detail == .replayPlan
        let segments = checksBodiesWhenSent ? nil : ReplaySegmentPresence()
        let destinations = ReplayDestinationMemo(rules: rules)
        let (session, index) = try CapturedSession.stream(directory: directory, detail: detail) { flow, position in
            guard select(flow) else { return }
            // The request is made when the flow is sent (`item`); here only where it goes.
            switch destination(for: flow, allowTruncated: allowTruncated, bodies: segments, destinations: destinations) {
            case .success(let destination):
                planned.append(Planned(flow, position: position))
                if let note = note(flow, destination: destination) { notes.append((flow.id, note)) }
            case .failure(let reason) where checksBodiesWhenSent && requestSkipReason(flow) == nil:
                skippedAfterBodies.append((flow, position, reason))
            case .failure(let reason): skipped.append(ReplaySkippedFlow(source: flow, reason: reason))
            }
        }
        if !skippedAfterBodies.isEmpty {
            let bodies = ReplaySegmentPresence()
            for entry in skippedAfterBodies {
                let reason = settledReason(entry.reason, position: entry.position, index: index, allowTruncated: allowTruncated,
                                           bodies: bodies, destinations: destinations)
                skipped.append(ReplaySkippedFlow(source: entry.flow, reason: reason))
            }
        }
        // Flows were handed over as they ended; the plan is in flow id order.
        planned.sort { $0.id < $1.id }
        skipped.sort { $0.source.id < $1.source.id }
        notes.sort { $0.0 < $1.0 }
        return (ReplayPlan(index: index, planned: planned, rules: rules, skipped: skipped, notes: notes.map(\.1),
                           checksBodiesWhenSent: checksBodiesWhenSent, allowTruncated: allowTruncated), session)
    }

    /// The reason a whole read skips a flow for that a read without its bodies skipped
    /// for `reason` (a check after the bodies'): its flow read again at `position`, checked
    /// whole (a body check may come first). When the flow cannot be read again (a line
    /// taken by its prefix is damaged after it), that, as `item` would say it.
    private static func settledReason(_ reason: ReplaySkipReason, position: Int, index: CapturedFlowIndex, allowTruncated: Bool,
                                      bodies: ReplaySegmentPresence, destinations: ReplayDestinationMemo) -> ReplaySkipReason {
        let flow: CapturedFlow
        do {
            flow = try index.flow(at: position, detail: .replaySend)
        } catch {
            return unreadableReason(error)
        }
        guard case .failure(let whole) = destination(for: flow, allowTruncated: allowTruncated, bodies: bodies,
                                                     destinations: destinations) else { return reason }
        return whole
    }

    /// Why a flow that cannot be read again from the session is skipped.
    private static func unreadableReason(_ error: CaptureError) -> ReplaySkipReason {
        ReplaySkipReason("it could not be read again from the session: \(error)")
    }

    /// Whether `item` reads each flow again from the session (a plan from `stream`), rather
    /// than handing out flows it holds.
    public var readsFromSession: Bool {
        if case .indexed = storage { return true }
        return false
    }

    /// Items to send.
    public var itemCount: Int {
        switch storage {
        case .held(let items): items.count
        case .indexed(_, _, let positions, _, _, _): positions.count
        }
    }

    /// Item `number` (`ReplayScheduledFlow.item`): for a streamed plan, its flow read
    /// again from the session (`CapturedFlowDetail.replaySend`: without where it went
    /// upstream, which neither sending nor comparing looks at) and its request made
    /// again; with its replacement body, if it has one. A plan streamed without the
    /// flows' bodies (`CapturedFlowDetail.replayPlan`) checks them here, as `init(flows:...)` does.
    ///
    /// - Throws: the flow as skipped, and why: when it cannot be read again (the session
    ///   changed or was damaged since it was planned; the flow has only its id then), or
    ///   when its bodies are why a whole read skips it (with that reason).
    /// - Parameter storedResponseBody: for a flow read again from the session, the
    ///   `ReplayItem.storedResponseBody` to give it, worked out from the flow as read.
    public func item(_ number: Int, storedResponseBody: ((CapturedFlow) -> [UInt8]?)? = nil) throws(ReplaySkippedFlow) -> ReplayItem {
        let item = try recordedItem(number, storedResponseBody: storedResponseBody)
        guard let body = replacementBodies[item.source.id] else { return item }
        return ReplayItem(source: item.source, request: item.request.replacingBody(body), webSocket: item.webSocket,
                          storedResponseBody: item.storedResponseBody)
    }

    private func recordedItem(_ number: Int, storedResponseBody: ((CapturedFlow) -> [UInt8]?)?) throws(ReplaySkippedFlow) -> ReplayItem {
        switch storage {
        case .held(let items):
            return items[number]
        case .indexed(let index, let ids, let positions, let destinations, let fields, let bodies):
            let flow: CapturedFlow
            do {
                flow = try index.flow(at: Int(positions[number]), detail: .replaySend)
            } catch {
                throw ReplaySkippedFlow(unreadable: ids[number], reason: Self.unreadableReason(error))
            }
            // The plan checked the rest (`destination(for:...)` without `bodies`).
            if let bodies, let reason = Self.bodySkipReason(flow, allowTruncated: allowTruncated, segments: bodies) {
                throw ReplaySkippedFlow(source: flow, reason: reason)
            }
            do throws(ReplaySkipReason) {
                let request = try ReplayRequestRewriter.request(for: flow, rules: rules, to: destinations.destination(for: flow),
                                                                fields: fields)
                let stored = storedResponseBody?(flow)
                return Self.item(flow, request: request, storedResponseBody: stored)
            } catch {
                throw ReplaySkippedFlow(source: flow, reason: error)
            }
        }
    }

    /// The same plan reading its flows again through a reader of its own
    /// (`CapturedFlowIndex.makeReader`), for another thread.
    public func withOwnReader() -> ReplayPlan {
        guard case .indexed(let index, let ids, let positions, _, _, let bodies) = storage else { return self }
        var copy = self
        copy.storage = .indexed(index.makeReader(), ids: ids, positions: positions, destinations: ReplayDestinationMemo(rules: rules),
                                fields: ReplayRequestFieldsMemo(), bodies: bodies == nil ? nil : ReplaySegmentPresence())
        return copy
    }

    /// The source flow id of item `number`.
    public func sourceID(_ number: Int) -> FlowID {
        switch storage {
        case .held(let items): items[number].source.id
        case .indexed(_, let ids, _, _, _, _): ids[number]
        }
    }

    private static func item(_ flow: consuming CapturedFlow, request: consuming ReplayRequest,
                             storedResponseBody: [UInt8]? = nil) -> ReplayItem {
        let script = flow.kind == .websocket
            ? WebSocketReplayScript(messages: flow.webSocketMessages, opened: flow.responseTime ?? flow.started) : nil
        return ReplayItem(source: flow, request: request, webSocket: script, storedResponseBody: storedResponseBody)
    }

    private static func note(_ flow: CapturedFlow, destination: ReplayDestination) -> String? {
        guard flow.kind == .websocket, flow.isExtendedConnectWebSocket, !destination.sendsExtendedConnect else { return nil }
        return ReplayNotes.webSocketOverHTTP1(flow: flow.id, because: "the target speaks HTTP/1.1 (http://)")
    }

    /// Where the flow goes (`ReplayRequestRewriter.destination`, through `destinations`), or
    /// why it is skipped: the checks in the order their reasons are told. `bodies`: the
    /// segment files, for the body checks (truncation and missing segments); nil leaves
    /// those out (a read without the bodies, `.replayPlan`: `bodySkipReason` checks them
    /// when the flow is read again).
    private static func destination(for flow: CapturedFlow, allowTruncated: Bool, bodies segments: ReplaySegmentPresence?,
                                    destinations: ReplayDestinationMemo) -> Result<ReplayDestination, ReplaySkipReason> {
        if let reason = requestSkipReason(flow) { return .failure(reason) }
        if segments != nil, let reason = truncationSkipReason(flow, allowTruncated: allowTruncated) { return .failure(reason) }
        guard flow.ended != nil else {
            return .failure(ReplaySkipReason("it was not recorded whole: it had not ended when its session stopped (the proxy was killed or is still running)"))
        }
        if let segments, let reason = missingBodySkipReason(flow, segments: segments) { return .failure(reason) }
        return Result { () throws(ReplaySkipReason) in try destinations.destination(for: flow) }
    }

    /// Why the flow is skipped for its bodies (truncated without `allowTruncated`, or a
    /// segment missing), if it is: of a flow whose other checks (`destination(for:...)`
    /// without `bodies`) passed, the reason that call with them gives.
    private static func bodySkipReason(_ flow: CapturedFlow, allowTruncated: Bool, segments: ReplaySegmentPresence) -> ReplaySkipReason? {
        truncationSkipReason(flow, allowTruncated: allowTruncated) ?? missingBodySkipReason(flow, segments: segments)
    }

    private static func truncationSkipReason(_ flow: CapturedFlow, allowTruncated: Bool) -> ReplaySkipReason? {
        guard !allowTruncated else { return nil }
        func reason(_ name: String, _ body: CapturedBody) -> ReplaySkipReason {
            ReplaySkipReason("its \(name) body was truncated by --max-body-capture (kept \(body.capturedBytes) of \(body.bodyBytes) bytes); --allow-truncated sends what was kept")
        }
        if flow.requestBody.truncated { return reason("request", flow.requestBody) }
        if flow.responseBody.truncated { return reason("response", flow.responseBody) }
        return nil
    }

    private static func missingBodySkipReason(_ flow: CapturedFlow, segments: ReplaySegmentPresence) -> ReplaySkipReason? {
        func reason(_ name: String, _ path: String) -> ReplaySkipReason {
            ReplaySkipReason("its stored \(name) body is missing: \(path) does not exist (damaged session)")
        }
        if let path = segments.missingPath(flow.requestBody) { return reason("request", path) }
        if let path = segments.missingPath(flow.responseBody) { return reason("response", path) }
        return nil
    }

    /// Why the flow is skipped for its kind or its request (the first checks of
    /// `destination(for:...)`, which need no body), if it is.
    private static func requestSkipReason(_ flow: CapturedFlow) -> ReplaySkipReason? {
        switch flow.kind {
        case .websocket:
            if let reason = webSocketSkipReason(flow) { return reason }
        case .tunnel: return ReplaySkipReason("a tunnel has no HTTP request to replay")
        case .tlsFailed: return ReplaySkipReason("a failed TLS handshake has no request to replay")
        case .http: break
        }
        guard flow.request != nil, flow.requestBody.isComplete else {
            return ReplaySkipReason("its request was not recorded whole (the session was not closed when it was read)")
        }
        return nil
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
    /// previous flow of its connection ended overlaps it. Items are placed in start order
    /// (ties in item order); items given in that order (flows mostly start in id order)
    /// are not sorted.
    private static func schedule(_ items: [Planned]) -> [[ReplayScheduledFlow]] {
        guard var first = items.first?.started else { return [] }
        var inStartOrder = true
        for index in items.indices.dropFirst() {
            let started = items[index].started
            if started < items[index - 1].started { inStartOrder = false }
            if started < first { first = started }
        }
        var groups: [[ReplayScheduledFlow]] = []
        var groupOf: [ConnectionID: Int] = [:]
        // Per group, its last item so far: the one the next may overlap.
        var lastOf: [Planned] = []
        func place(_ index: Int) {
            let flow = items[index]
            var overlaps = false
            let group: Int
            if let known = groupOf[flow.connection] {
                group = known
                let previous = lastOf[group]
                if flow.isHTTP2, previous.isHTTP2 { overlaps = flow.started < (previous.ended ?? flow.started) }
                lastOf[group] = flow
            } else {
                group = groups.count
                groupOf[flow.connection] = group
                groups.append([])
                lastOf.append(flow)
            }
            groups[group].append(ReplayScheduledFlow(item: index, offsetMicroseconds: flow.started.microseconds - first.microseconds,
                                                     overlapsPrevious: overlaps))
        }
        if inStartOrder {
            for index in items.indices { place(index) }
        } else {
            for index in items.indices.sorted(by: { (items[$0].started, $0) < (items[$1].started, $1) }) { place(index) }
        }
        return groups
    }
}
