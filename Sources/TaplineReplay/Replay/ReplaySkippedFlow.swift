import TaplineCapture
import TaplineFlow

/// A selected flow that is not replayed, and why. A value type; thrown by
/// `ReplayPlan.item` for a flow found unsendable when its turn comes.
public struct ReplaySkippedFlow: Error, Sendable {
    public let source: CapturedFlow
    public let reason: ReplaySkipReason

    public init(source: CapturedFlow, reason: ReplaySkipReason) {
        self.source = source
        self.reason = reason
    }

    /// Flow `id`, which could not be read again: nothing of it is known but its id.
    init(unreadable id: FlowID, reason: ReplaySkipReason) {
        self.init(source: CapturedFlow(id: id, connection: ConnectionID(0), kind: .http, scheme: "http", authority: "",
                                       started: Timestamp(microseconds: 0), sessionDirectory: ""),
                  reason: reason)
    }
}
