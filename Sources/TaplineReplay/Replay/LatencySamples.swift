import TaplineCapture

/// Durations of the flows of one endpoint, recorded and replayed, in whole
/// microseconds as `Int32` (4 bytes a sample: 100,000 flows take 400 KB a side;
/// a duration over ~35 minutes counts as ~35 minutes), for `LatencyPercentiles`.
/// A value type, filled as flows end.
struct LatencySamples {
    var count = 0
    var recorded: [Int32] = []
    var replayed: [Int32] = []

    /// `flow`'s request start (or start) to done (or end), as `CapturedFlow.durationMilliseconds` measures it.
    static func microseconds(_ flow: CapturedFlow) -> Int32? {
        let start = flow.timings.requestStart ?? flow.requestTime ?? flow.started
        guard let end = flow.timings.done ?? flow.ended else { return nil }
        return Int32(clamping: end.microseconds - start.microseconds)
    }

    /// Sorts the samples into the table's row for `endpoint`.
    mutating func row(_ endpoint: String) -> EndpointLatency {
        EndpointLatency(endpoint: endpoint, count: count, recorded: LatencyPercentiles(microseconds: &recorded),
                        replayed: LatencyPercentiles(microseconds: &replayed))
    }
}
