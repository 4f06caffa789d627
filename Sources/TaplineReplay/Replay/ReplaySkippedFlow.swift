import TaplineCapture

/// A selected flow that is not replayed, and why. A value type.
public struct ReplaySkippedFlow: Sendable {
    public let source: CapturedFlow
    public let reason: ReplaySkipReason

    public init(source: CapturedFlow, reason: ReplaySkipReason) {
        self.source = source
        self.reason = reason
    }
}
