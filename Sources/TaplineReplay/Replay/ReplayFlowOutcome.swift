import TaplineCapture
import TaplineFlow

/// One replayed flow: which source flow it re-sent, what that asked, how they
/// compare, and how long each took. What is kept of a flow once it was compared
/// (neither flow is), so a value of a few dozen bytes: `url` and `method` are shared
/// with the other outcomes of the same request (`ReplayEvaluation` interns them).
public struct ReplayFlowOutcome: Sendable {
    public let sourceID: FlowID
    /// The flow's id in the replay session.
    public let replayID: FlowID
    /// The source's request method (its kind, for a flow without a request).
    public let method: String
    /// The source's URL (`CapturedFlow.url`).
    public let url: String
    public let verdict: ReplayVerdict
    /// Why the replay failed, as recorded in the replay session.
    public let error: RecordedError?
    public let recordedMilliseconds: Double?
    public let replayedMilliseconds: Double?
    /// How the replay differs from the source, in the diff's order: all of them for the
    /// first `ReplayEvaluation.detailedFlowLimit` flows that differ, none after that.
    public let differences: [FlowDifference]
    /// How many differences were found (also when `differences` was not kept).
    public let differenceCount: Int

    public init(sourceID: FlowID, replayID: FlowID, method: String, url: String, verdict: ReplayVerdict,
                error: RecordedError?, recordedMilliseconds: Double?, replayedMilliseconds: Double?,
                differences: [FlowDifference], differenceCount: Int) {
        self.sourceID = sourceID
        self.replayID = replayID
        self.method = method
        self.url = url
        self.verdict = verdict
        self.error = error
        self.recordedMilliseconds = recordedMilliseconds
        self.replayedMilliseconds = replayedMilliseconds
        self.differences = differences
        self.differenceCount = differenceCount
    }

    /// The differences were found but not kept (past `ReplayEvaluation.detailedFlowLimit`).
    public var differencesOmitted: Bool { differences.count < differenceCount }
}
