import TaplineCapture
import TaplineFlow

/// One replayed flow: which source flow it re-sent, what that asked, how they
/// compare, and how long each took. What is kept of a flow once it was compared
/// (neither flow is): ~72 bytes for an equal flow, whose `url` and `method` are shared
/// with the other outcomes of the same request (`ReplayEvaluation` interns them); a
/// flow that differs or failed also holds its error and differences (`Detail`). A value type.
public struct ReplayFlowOutcome: Sendable {
    /// What only a flow that differs or failed has.
    private final class Detail: Sendable {
        let error: RecordedError?
        let differences: [FlowDifference]
        let differenceCount: Int

        init(error: RecordedError?, differences: [FlowDifference], differenceCount: Int) {
            self.error = error
            self.differences = differences
            self.differenceCount = differenceCount
        }
    }

    public let sourceID: FlowID
    /// The flow's id in the replay session.
    public let replayID: FlowID
    /// The source's request method (its kind, for a flow without a request).
    public let method: String
    /// The source's URL (`CapturedFlow.url`).
    public let url: String
    public let verdict: ReplayVerdict
    /// Durations in whole microseconds (`LatencySamples`), -1 for none.
    private let recordedMicroseconds: Int32
    private let replayedMicroseconds: Int32
    private var detail: Detail?

    public init(sourceID: FlowID, replayID: FlowID, method: String, url: String, verdict: ReplayVerdict,
                error: RecordedError?, recordedMilliseconds: Double?, replayedMilliseconds: Double?,
                differences: [FlowDifference], differenceCount: Int) {
        self.sourceID = sourceID
        self.replayID = replayID
        self.method = method
        self.url = url
        self.verdict = verdict
        recordedMicroseconds = recordedMilliseconds.map { Int32(clamping: Int64(($0 * 1_000).rounded())) } ?? -1
        replayedMicroseconds = replayedMilliseconds.map { Int32(clamping: Int64(($0 * 1_000).rounded())) } ?? -1
        detail = error == nil && differenceCount == 0 ? nil
            : Detail(error: error, differences: differences, differenceCount: differenceCount)
    }

    /// Why the replay failed, as recorded in the replay session.
    public var error: RecordedError? { detail?.error }
    /// How the replay differs from the source, in the diff's order: all of them for the
    /// first `ReplayEvaluation.detailedFlowLimit` flows that differ, none after that
    /// (`ReplayEvaluation.result`).
    public var differences: [FlowDifference] { detail?.differences ?? [] }
    /// How many differences were found (also when `differences` was not kept).
    public var differenceCount: Int { detail?.differenceCount ?? 0 }
    /// The differences were found but not kept (past `ReplayEvaluation.detailedFlowLimit`).
    public var differencesOmitted: Bool { differences.count < differenceCount }

    /// The same outcome without its differences (their count and the error kept).
    func omittingDifferences() -> ReplayFlowOutcome {
        guard let detail, !detail.differences.isEmpty else { return self }
        var copy = self
        copy.detail = Detail(error: detail.error, differences: [], differenceCount: detail.differenceCount)
        return copy
    }

    public var recordedMilliseconds: Double? { recordedMicroseconds < 0 ? nil : Double(recordedMicroseconds) / 1_000 }
    public var replayedMilliseconds: Double? { replayedMicroseconds < 0 ? nil : Double(replayedMicroseconds) / 1_000 }
}
