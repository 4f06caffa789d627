import TaplineCapture
import TaplineExport
import TaplineReplay
import TaplineWire

/// `tapline replay --report FILE.json`: the result as one JSON document, keys in a
/// fixed order (shape in docs/replay.md, "Replay"). Differences have the shape of
/// `tapline diff --json`'s (`DiffReportJSON.difference`). Pure.
enum ReplayReportJSON {
    static func text(_ result: ReplayResult, source: CapturedSession, replaySessionID: String?) -> String {
        let document = JSONValue.object([
            JSONMember("matched", .bool(result.allMatched)),
            JSONMember("source", .object([JSONMember("session", .string(source.id)),
                                          JSONMember("directory", .string(source.directory))])),
            JSONMember("replay", .object([JSONMember("session", replaySessionID.map(JSONValue.string) ?? .null)])),
            JSONMember("summary", .object([
                JSONMember("sent", .integer(result.sentCount)),
                JSONMember("equal", .integer(result.equalCount)),
                JSONMember("different", .integer(result.differentCount)),
                JSONMember("failed", .integer(result.failedCount)),
                JSONMember("skipped", .integer(result.skipped.count)),
            ])),
            JSONMember("flows", .array(result.outcomes.map(outcome))),
            JSONMember("skipped", .array(result.skipped.map { skipped in
                .object([JSONMember("source", .integer(skipped.source.id.rawValue)),
                         JSONMember("method", skipped.source.request.map { .string($0.method) } ?? .null),
                         JSONMember("url", .string(skipped.source.url)),
                         JSONMember("reason", .string(skipped.reason.description))])
            })),
            JSONMember("latency", .array(result.latency.map { entry in
                .object([JSONMember("endpoint", .string(entry.endpoint)), JSONMember("count", .integer(entry.count)),
                         JSONMember("recorded", percentiles(entry.recorded)),
                         JSONMember("replayed", percentiles(entry.replayed))])
            })),
        ])
        return JSONWriter.text(document)
    }

    private static func outcome(_ outcome: ReplayFlowOutcome) -> JSONValue {
        .object([
            JSONMember("source", .integer(outcome.sourceID.rawValue)),
            JSONMember("replay", .integer(outcome.replayID.rawValue)),
            JSONMember("method", .string(outcome.method)),
            JSONMember("url", .string(outcome.url)),
            JSONMember("result", .string(outcome.verdict.rawValue)),
            JSONMember("error", outcome.error.map { error in
                .object([JSONMember("kind", .string(error.kind)), JSONMember("message", .string(error.message))])
            } ?? .null),
            JSONMember("recordedMilliseconds", outcome.recordedMilliseconds.map(JSONValue.milliseconds) ?? .null),
            JSONMember("replayedMilliseconds", outcome.replayedMilliseconds.map(JSONValue.milliseconds) ?? .null),
            JSONMember("differenceCount", .integer(outcome.differenceCount)),
            JSONMember("differences", .array(outcome.differences.map(DiffReportJSON.difference))),
        ])
    }

    private static func percentiles(_ value: LatencyPercentiles?) -> JSONValue {
        guard let value else { return .null }
        return .object([JSONMember("p50", .milliseconds(value.p50)), JSONMember("p90", .milliseconds(value.p90)),
                        JSONMember("p99", .milliseconds(value.p99))])
    }
}
