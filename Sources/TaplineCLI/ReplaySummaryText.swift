import Foundation
import TaplineCapture
import TaplineReplay

/// `tapline replay`'s human output: each flow that differs or failed with its
/// differences (as `tapline diff` prints them), the skipped flows with their reasons,
/// the latency table (recorded vs replayed p50/p90/p99 per endpoint) and the count
/// line `sent N: E equal, D different, F failed; S skipped`. Pure.
enum ReplaySummaryText {
    static func lines(_ result: ReplayResult, source: CapturedSession, replaySessionID: String?,
                      style: TerminalStyle) -> [String] {
        var lines = ["replay of session \(source.id)" + (replaySessionID.map { " recorded as session \($0)" } ?? "")]
        for outcome in result.outcomes where outcome.verdict != .equal {
            let heading = "flow \(outcome.sourceID) -> \(outcome.replayID)  \(outcome.method) \(outcome.url)"
            if outcome.verdict == .failed, let error = outcome.error {
                lines.append(style.red(heading + "  failed: \(error.kind): \(error.message)"))
            } else {
                lines.append(style.bold(heading))
            }
            lines += outcome.differences.flatMap { DiffReportText.describe($0, style: style) }.map { "  " + $0 }
            if outcome.differencesOmitted {
                lines.append("  \(outcome.differenceCount) difference\(outcome.differenceCount == 1 ? "" : "s") (not listed: "
                             + "only the first \(ReplayEvaluation.detailedFlowLimit) flows that differ are listed in full)")
            }
        }
        for skipped in result.skipped {
            lines.append(style.yellow("skipped flow \(skipped.source.id)  \(skipped.source.request?.method ?? skipped.source.kind.rawValue) \(skipped.source.url): \(skipped.reason)"))
        }
        if !result.latency.isEmpty {
            lines.append("latency ms (p50/p90/p99)  recorded -> replayed")
            for entry in result.latency {
                lines.append("  \(entry.endpoint) (\(entry.count)): \(percentiles(entry.recorded)) -> \(percentiles(entry.replayed))")
            }
        }
        let counts = "sent \(result.sentCount): \(result.equalCount) equal, \(result.differentCount) different, "
            + "\(result.failedCount) failed; \(result.skipped.count) skipped"
        lines.append(result.allMatched ? style.green("all matched: " + counts) : style.yellow("mismatches: " + counts))
        return lines
    }

    private static func percentiles(_ value: LatencyPercentiles?) -> String {
        guard let value else { return "-" }
        return [value.p50, value.p90, value.p99].map { OneDecimalText.string($0) }.joined(separator: "/")
    }
}
