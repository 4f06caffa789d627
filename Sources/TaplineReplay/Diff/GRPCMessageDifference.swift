import TaplineCapture

/// How one gRPC message differs between A's call and B's: messages are numbered per
/// direction from 0 in stream order (`GRPCCapturedMessage.index`, as `tapline show`
/// numbers them), and a payload's JSON changes carry pointers *within that message*
/// (`/items/1/name`), so an `--ignore-path` rule applies inside every message alike.
/// A value type.
public struct GRPCMessageDifference: Sendable, Equatable {
    public enum Change: Sendable, Equatable {
        /// Only A has a message at this position (its declared payload size).
        case missing(wireBytes: Int)
        /// Only B has a message at this position.
        case extra(wireBytes: Int)
        /// Both are JSON (decoded with the schema, schemaless by field number, or `+json`)
        /// and differ at these pointers (never empty).
        case json([JSONChange])
        /// At least one side could not be decoded or was not recorded whole, and the two
        /// differ: what each side is (`GRPCMessageContent`'s reason, or "JSON").
        case notCompared(a: String, b: String)
    }

    public var direction: BodyDirection
    /// 0-based position among the messages of `direction`.
    public var index: Int
    public var change: Change

    public init(direction: BodyDirection, index: Int, change: Change) {
        self.direction = direction
        self.index = index
        self.change = change
    }
}
