import TaplineCapture
import TaplineExport
import TaplineFlow
import TaplineWire

/// Compares each replayed flow with the flow it re-sent as it ends (`add`), by the
/// diff engine's rules (`SessionDiff`, so a replay finds what `tapline diff` of the two
/// sessions finds), and keeps only what the result needs: a compact outcome per flow
/// (`ReplayFlowOutcome`), the differences of the first `detailedFlowLimit` flows that
/// differ (those that ended first on its loop; `result` keeps that many of every loop's
/// together, in replay flow order), and latency samples per endpoint (`LatencySamples`).
///
/// Memory: O(flows × ~80 bytes) for outcomes and samples, plus the distinct endpoints
/// and at most `requestLabelLimit` remembered requests; differences only for
/// `detailedFlowLimit` flows. A flow's bodies are never
/// held: the replayed response was matched against its source as it arrived.
///
/// Thread ownership: a value owned by the `ReplayRunner`, used on its loop.
public struct ReplayEvaluation {
    /// Differing or failed flows whose differences are kept in full; later ones keep
    /// their verdict and how many differences they had.
    public static let detailedFlowLimit = 1_000
    /// How many distinct requests `requestLabels` holds; when full it starts again empty.
    static let requestLabelLimit = 4_096

    public var diff: SessionDiff
    /// Equal flows are kept as outcomes (a report lists every flow); else only counted.
    public let keepsEqualOutcomes: Bool
    private var outcomes: [ReplayFlowOutcome] = []
    private var unlistedEqualCount = 0
    private var detailedFlows = 0
    /// The endpoints in the order first seen, and each one's samples (same positions).
    private var endpoints: [String] = []
    private var latency: [LatencySamples] = []
    /// Each endpoint's position in `endpoints`.
    private var endpointPositions: [String: Int] = [:]
    /// Per recent request: its endpoint's position and its URL, one `String` shared by
    /// every outcome of it. A session repeats its URLs, and working an endpoint out
    /// (`RequestURL`, `RequestKey.template`) or a URL costs more than this lookup.
    /// At most `requestLabelLimit` entries: a session whose URLs all differ would
    /// otherwise keep one per flow.
    private var requestLabels: [RequestLabelKey: (endpoint: Int, url: String)] = [:]

    /// What a request's URL and endpoint are worked out from (`CapturedFlow.url`,
    /// `endpoint(of:url:)`): hashed as its parts, without the URL made for every flow.
    private struct RequestLabelKey: Hashable {
        /// The method, or the flow's kind when it has no request.
        let method: String
        let scheme: String
        let authority: String
        let target: String
        /// A `CONNECT` that is an RFC 8441 WebSocket (its URL has a path then).
        let extendedConnect: Bool

        init(_ flow: borrowing CapturedFlow) {
            method = flow.request?.method ?? flow.kind.rawValue
            scheme = flow.scheme
            authority = flow.authority
            target = flow.request?.target ?? ""
            extendedConnect = method == "CONNECT" && flow.isExtendedConnectWebSocket
        }

        /// Hashes the target alone (what tells a session's requests apart); `==` still
        /// compares every part. One string through `Hasher` a flow, not four.
        func hash(into hasher: inout Hasher) {
            hasher.combine(target)
        }
    }

    public init(diff: SessionDiff, keepsEqualOutcomes: Bool = true) {
        self.diff = diff
        self.keepsEqualOutcomes = keepsEqualOutcomes
    }

    /// Compares `replay`, just ended, with `source`; `responseBody` is its response body
    /// as matched against the source's while it arrived; `sentRequestBody` the body sent
    /// instead of the source's (`--edit`), if one was. `firstRound`: the source's latency
    /// is counted once, in the first `--repeat` round.
    mutating func add(source: CapturedFlow, replay: CapturedFlow, responseBody: ReplayedResponseBody,
                      sentRequestBody: [UInt8]? = nil, firstRound: Bool) {
        var differences: [FlowDifference]
        var failure = replay.error
        var compared = true
        do {
            differences = try diff.differences(source, replay, responseBodyOfB: bodyOfReplay(source, replay, responseBody),
                                               requestBodyOfB: sentRequestBody)
        } catch {
            differences = []
            compared = false
            if failure == nil { failure = RecordedError(kind: "cannot-compare", message: "\(error)") }
        }
        responseBody.close()
        let unfinished = replay.ended == nil
        if unfinished { differences.insert(.outcome(a: source.error?.kind, b: "unfinished"), at: 0) }
        let failed = failure != nil || unfinished
        // A replay that failed as its recording did is equal (`.outcome` finds no difference).
        let verdict: ReplayVerdict = differences.isEmpty && compared ? .equal : failed ? .failed : .different
        let count = differences.count
        if verdict != .equal {
            if detailedFlows < Self.detailedFlowLimit {
                detailedFlows += 1
            } else {
                differences = []
            }
        }

        let key = RequestLabelKey(source)
        let method = key.method
        let label: (endpoint: Int, url: String)
        if let known = requestLabels[key] {
            label = known
        } else {
            let url = source.url
            label = (endpointPosition(Self.endpoint(of: source, url: url)), url)
            if requestLabels.count == Self.requestLabelLimit { requestLabels.removeAll(keepingCapacity: true) }
            requestLabels[key] = label
        }
        let recorded = LatencySamples.microseconds(source)
        let replayed = LatencySamples.microseconds(replay)
        if verdict == .equal, !keepsEqualOutcomes {
            unlistedEqualCount += 1
        } else {
            outcomes.append(ReplayFlowOutcome(
            sourceID: source.id, replayID: replay.id, method: method, url: label.url, verdict: verdict, error: failure,
            recordedMilliseconds: recorded.map { Double($0) / 1_000 }, replayedMilliseconds: replayed.map { Double($0) / 1_000 },
            differences: differences, differenceCount: count))
        }

        latency[label.endpoint].count += 1
        if firstRound, let recorded { latency[label.endpoint].recorded.append(recorded) }
        if !failed, let replayed { latency[label.endpoint].replayed.append(replayed) }
    }

    /// `endpoint`'s position in `endpoints` (and `latency`), added when new.
    private mutating func endpointPosition(_ endpoint: String) -> Int {
        if let known = endpointPositions[endpoint] { return known }
        endpoints.append(endpoint)
        latency.append(LatencySamples())
        endpointPositions[endpoint] = endpoints.count - 1
        return endpoints.count - 1
    }

    /// Where the diff takes the replay's response body from: equal bytes need no
    /// loading; otherwise the bytes as the replay session holds them.
    private func bodyOfReplay(_ source: CapturedFlow, _ replay: CapturedFlow,
                              _ body: ReplayedResponseBody) throws(SessionDiffError) -> SessionDiff.ResponseBodyOfB {
        guard let headers = replay.response?.headers else { return .stored }
        // Equal bytes are equal bodies when both sides decode them alike.
        if body.equalsSource, headers.values(name: "Content-Encoding") == source.response?.headers.values(name: "Content-Encoding") {
            return .sameBytesAsA
        }
        do {
            return .loaded(try body.loaded(headers: headers))
        } catch {
            throw SessionDiffError(session: source.requestBody.sessionDirectory, flow: source.id, part: "response body",
                                   cause: error)
        }
    }

    /// Takes in what `other` (another loop's share of the same replay, `ReplayRunnerGroup`)
    /// found: its outcomes, equal count and latency samples. (Each share kept differences
    /// for at most `detailedFlowLimit` of its flows; `result` keeps them for that many in all.)
    mutating func merge(_ other: ReplayEvaluation) {
        outcomes += other.outcomes
        unlistedEqualCount += other.unlistedEqualCount
        for (endpoint, samples) in zip(other.endpoints, other.latency) {
            let position = endpointPosition(endpoint)
            latency[position].count += samples.count
            latency[position].recorded += samples.recorded
            latency[position].replayed += samples.replayed
        }
    }

    /// The outcomes in replay flow order, with `skipped` and the latency table. Call once,
    /// at the end: the outcomes and samples move into the result (sorted in place).
    public mutating func result(skipped: [ReplaySkippedFlow]) -> ReplayResult {
        var table: [EndpointLatency] = []
        var samples: [LatencySamples] = []
        swap(&samples, &latency)
        for position in samples.indices { table.append(samples[position].row(endpoints[position])) }
        endpoints = []
        endpointPositions = [:]
        var ordered: [ReplayFlowOutcome] = []
        swap(&ordered, &outcomes)
        ordered.sort { $0.replayID < $1.replayID }
        Self.keepDifferencesOfFirstFlows(&ordered)
        return ReplayResult(outcomes: ordered, unlistedEqualCount: unlistedEqualCount, skipped: skipped, latency: table)
    }

    /// Keeps the differences of the first `detailedFlowLimit` outcomes (in `outcomes`'
    /// order) that have them, and drops the later ones': merged shares (`merge`) each kept
    /// up to the limit, and the result lists no more than one share would.
    private static func keepDifferencesOfFirstFlows(_ outcomes: inout [ReplayFlowOutcome]) {
        var detailed = 0
        for position in outcomes.indices where !outcomes[position].differences.isEmpty {
            if detailed < detailedFlowLimit {
                detailed += 1
            } else {
                outcomes[position] = outcomes[position].omittingDifferences()
            }
        }
    }

    /// `GET /users/:number`: the method and the templated path (`RequestKey.template`);
    /// `url` is `flow.url` (`RequestURL(flow:)` parses that; only a WebSocket's scheme differs).
    static func endpoint(of flow: CapturedFlow, url: String) -> String {
        let path = RequestURL(string: url)?.path ?? flow.request?.target ?? "/"
        return (flow.request?.method ?? flow.kind.rawValue) + " " + RequestKey.template(path)
    }
}
