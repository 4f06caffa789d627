import TaplineCapture
import TaplineFlow

/// One length-prefixed message of a captured gRPC call, read back from the stored body.
///
/// Invariant: `index` counts the messages of its direction from 0 in stream order.
/// A value type.
public struct GRPCCapturedMessage: Sendable, Equatable {
    public var direction: BodyDirection
    public var index: Int
    /// The frame's compressed flag (the payload used the call's `grpc-encoding`).
    public var compressed: Bool
    /// The payload length the frame declared (as sent, compressed or not).
    public var wireBytes: Int
    /// When its last byte arrived: the time of the body chunk that completed it, or
    /// the time of the request or response head when the capture has no chunk times
    /// (`timeIsChunkTime` false). Nil when neither was recorded.
    public var time: Timestamp?
    public var timeIsChunkTime: Bool
    public var content: GRPCMessageContent

    public init(direction: BodyDirection, index: Int, compressed: Bool, wireBytes: Int, time: Timestamp?,
                timeIsChunkTime: Bool, content: GRPCMessageContent) {
        self.direction = direction
        self.index = index
        self.compressed = compressed
        self.wireBytes = wireBytes
        self.time = time
        self.timeIsChunkTime = timeIsChunkTime
        self.content = content
    }
}
