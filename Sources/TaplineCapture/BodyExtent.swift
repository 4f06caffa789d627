import TaplineFlow

/// A run of body bytes stored contiguously in one segment file
/// (`bodies/<segment, 6 digits>.bin`, bytes `offset ..< offset + length`).
public struct BodyExtent: Sendable, Equatable {
    public var segment: Int
    public var offset: UInt64
    public var length: UInt64
    /// When the proxy recorded the run's first chunk (the `t` of its `body` line);
    /// nil for extents not read from a `body` line (streamed WebSocket payloads, tests).
    /// Readers use it as the time the run's bytes arrived, e.g. the time of a gRPC
    /// message whose last byte is in this run.
    public var recorded: Timestamp?

    public init(segment: Int, offset: UInt64, length: UInt64, recorded: Timestamp? = nil) {
        self.segment = segment
        self.offset = offset
        self.length = length
        self.recorded = recorded
    }
}
