import TaplineCapture
import TaplineExport
import TaplineReplay
import TaplineWire

/// `tapline replay --report FILE.json`: the result as one JSON document, keys in a
/// fixed order (shape in docs/replay.md, "Replay"). Differences have the shape of
/// `tapline diff --json`'s (`DiffReportJSON.difference`). Pure.
///
/// Written in pieces (`write`): the lists (a flow each) one element at a time, so a
/// report of a large replay is never whole in memory; the text is what `JSONWriter`
/// gives for the whole document.
enum ReplayReportJSON {
    /// About how many bytes each piece `write` hands over holds.
    static let pieceBytes = 64 * 1024

    static func text(_ result: ReplayResult, source: CapturedSession, replaySessionID: String?) -> String {
        var bytes: [UInt8] = []
        write(result, source: source, replaySessionID: replaySessionID) { bytes += $0 }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Hands the document to `append` in pieces, in order.
    static func write<Failure: Error>(_ result: ReplayResult, source: CapturedSession, replaySessionID: String?,
                                      to append: ([UInt8]) throws(Failure) -> Void) throws(Failure) {
        var writer = JSONWriter()
        var members = 0
        func member(_ key: String) {
            writer.raw(members == 0 ? "{" : ",")
            members += 1
            writer.newline(level: 1)
            writer.string(key)
            writer.raw(": ")
        }
        func member(_ key: String, _ value: JSONValue) {
            member(key)
            writer.write(value, level: 1)
        }
        /// A member whose value is an array, written as `JSONWriter.write` writes one, an element at a time.
        /// (Element `position` is `element(position)`: a nested generic function cannot throw `Failure`.)
        func list(_ key: String, count: Int, _ element: (Int) -> JSONValue) throws(Failure) {
            member(key)
            guard count > 0 else { return writer.raw("[]") }
            writer.raw("[")
            for position in 0..<count {
                if position > 0 { writer.raw(",") }
                writer.newline(level: 2)
                writer.write(element(position), level: 2)
                if writer.bytes.count >= pieceBytes { try append(writer.take()) }
            }
            writer.newline(level: 1)
            writer.raw("]")
        }

        member("matched", .bool(result.allMatched))
        member("source", .object([JSONMember("session", .string(source.id)),
                                  JSONMember("directory", .string(source.directory))]))
        member("replay", .object([JSONMember("session", replaySessionID.map(JSONValue.string) ?? .null)]))
        member("summary", .object([
            JSONMember("sent", .integer(result.sentCount)),
            JSONMember("equal", .integer(result.equalCount)),
            JSONMember("different", .integer(result.differentCount)),
            JSONMember("failed", .integer(result.failedCount)),
            JSONMember("skipped", .integer(result.skipped.count)),
        ]))
        try list("flows", count: result.outcomes.count) { outcome(result.outcomes[$0]) }
        try list("skipped", count: result.skipped.count) { position in
            let skipped = result.skipped[position]
            return .object([JSONMember("source", .integer(skipped.source.id.rawValue)),
                     JSONMember("method", skipped.source.request.map { .string($0.method) } ?? .null),
                     JSONMember("url", .string(skipped.source.url)),
                     JSONMember("reason", .string(skipped.reason.description))])
        }
        try list("latency", count: result.latency.count) { position in
            let entry = result.latency[position]
            return .object([JSONMember("endpoint", .string(entry.endpoint)), JSONMember("count", .integer(entry.count)),
                     JSONMember("recorded", percentiles(entry.recorded)),
                     JSONMember("replayed", percentiles(entry.replayed))])
        }
        writer.newline(level: 0)
        writer.raw("}")
        try append(writer.take())
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
