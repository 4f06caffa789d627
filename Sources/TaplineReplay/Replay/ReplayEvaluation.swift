import TaplineCapture
import TaplineExport
import TaplineFlow

/// Compares a replay session's flows with the flows they re-sent (each names its
/// source, `CapturedFlow.sourceFlow`), by the diff engine's rules (`SessionDiff`),
/// and gathers latency per endpoint. Reads one body pair at a time (`SessionDiff`'s
/// bound). Runs on the caller's thread.
public struct ReplayEvaluation {
    public var diff: SessionDiff

    public init(diff: SessionDiff) {
        self.diff = diff
    }

    /// - Parameters:
    ///   - sources: the source session's flows, by id (those replayed).
    ///   - replays: the replay session's flows.
    /// - Throws: `SessionDiffError` naming the flow whose stored body could not be read.
    public func result(sources: [FlowID: CapturedFlow], replays: [CapturedFlow],
                       skipped: [ReplaySkippedFlow]) throws(SessionDiffError) -> ReplayResult {
        var outcomes: [ReplayFlowOutcome] = []
        var latency: [String: (count: Int, recorded: [Double], replayed: [Double])] = [:]
        var endpoints: [String] = []
        var countedSources = Set<FlowID>()
        // Endpoints by what they are made of: a session repeats its URLs, and parsing
        // one (`RequestURL`, `RequestKey.template`) costs more than looking it up.
        var endpointOfURL: [String: String] = [:]
        for replay in replays {
            guard let id = replay.sourceFlow, let source = sources[id] else { continue }
            var differences = try diff.differences(source, replay)
            let unfinished = replay.ended == nil
            if unfinished { differences.insert(.outcome(a: source.error?.kind, b: "unfinished"), at: 0) }
            let failed = replay.error != nil || unfinished
            let verdict: ReplayVerdict = differences.isEmpty ? .equal : failed ? .failed : .different
            outcomes.append(ReplayFlowOutcome(source: source, replay: replay, verdict: verdict, differences: differences))

            // Everything `endpoint(of:)` reads: the method (or kind), the URL, and the target it falls back on.
            let urlKey = (source.request?.method ?? source.kind.rawValue) + " " + source.url + " " + (source.request?.target ?? "")
            let endpoint = endpointOfURL[urlKey] ?? Self.endpoint(of: source)
            endpointOfURL[urlKey] = endpoint
            if latency[endpoint] == nil {
                endpoints.append(endpoint)
                latency[endpoint] = (0, [], [])
            }
            latency[endpoint]?.count += 1
            if countedSources.insert(id).inserted, let recorded = source.durationMilliseconds {
                latency[endpoint]?.recorded.append(recorded)
            }
            if !failed, let replayed = replay.durationMilliseconds { latency[endpoint]?.replayed.append(replayed) }
        }
        let table = endpoints.map { endpoint in
            let entry = latency[endpoint] ?? (0, [], [])
            return EndpointLatency(endpoint: endpoint, count: entry.count, recorded: LatencyPercentiles(entry.recorded),
                                   replayed: LatencyPercentiles(entry.replayed))
        }
        return ReplayResult(outcomes: outcomes, skipped: skipped, latency: table)
    }

    /// `GET /users/:number`: the method and the templated path (`RequestKey.template`).
    static func endpoint(of flow: CapturedFlow) -> String {
        let path = RequestURL(flow: flow)?.path ?? flow.request?.target ?? "/"
        return (flow.request?.method ?? flow.kind.rawValue) + " " + RequestKey.template(path)
    }
}
