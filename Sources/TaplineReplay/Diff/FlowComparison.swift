import TaplineCapture

/// A pair of flows, one from each session, and how B's differs from A's. A value type.
public struct FlowComparison: Sendable {
    public var a: CapturedFlow
    public var b: CapturedFlow
    /// In a fixed order: outcome, status, headers, trailers, gRPC status, body (or, for a gRPC call, its messages and
    /// status details), WebSocket messages, timing.
    public var differences: [FlowDifference]

    public var isEqual: Bool { differences.isEmpty }

    public init(a: CapturedFlow, b: CapturedFlow, differences: [FlowDifference]) {
        self.a = a
        self.b = b
        self.differences = differences
    }
}
