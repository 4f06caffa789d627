import TaplineFlow

/// One length-prefixed frame of a gRPC or gRPC-Web flow as the proxy saw it pass: a
/// `grpcMessage` line (docs/capture-format.md). The writer makes it from the body
/// chunks as they are recorded (`GRPCMessageRecorder`); the reader puts it on its flow
/// (`CapturedFlow.grpcMessages`). Only where and when: the payload stays in the
/// direction's stored body (decoding it is the reader's business, with the schemas it
/// is given).
///
/// Invariants: `index` counts the direction's messages from 0 in stream order (a
/// `.webTrailers` or `.malformed` entry has the index the next message would have had);
/// `payloadOffset` counts bytes from the direction's first body byte, the prefix's 5
/// bytes included, so the payload is `payloadOffset ..< payloadOffset + wireBytes` of
/// the concatenated `body` extents. A value type.
public struct CapturedGRPCMessage: Sendable, Equatable {
    /// What the frame turned out to be.
    public enum Kind: Sendable, Equatable {
        /// A whole message: its last byte passed through the proxy.
        case message
        /// gRPC-Web's trailer frame (flag 0x80): the call's trailers, in the body.
        case webTrailers
        /// Not a valid frame, or (`cut`) the frame the stream ended inside; the framer's
        /// reason. The direction is not split further after it.
        case malformed(reason: String, cut: Bool)
    }

    public var direction: BodyDirection
    public var index: Int
    public var kind: Kind
    /// The frame's compressed flag (bit 0): the payload used the direction's `grpc-encoding`.
    public var compressed: Bool
    /// The payload length the 5-byte prefix declared (as sent); nil only for a
    /// `.malformed` frame whose prefix itself was cut.
    public var wireBytes: Int?
    /// Where the payload starts in the direction's body (just after the prefix).
    public var payloadOffset: UInt64
    /// True when the capture stored fewer than all of the payload's bytes
    /// (`--max-body-capture`): the message passed whole, but not all of it is on disk.
    public var truncated: Bool
    /// When the proxy recorded the body chunk holding the frame's last byte (for a
    /// `.malformed` frame: when the framer found the problem or the stream ended).
    public var time: Timestamp

    public init(direction: BodyDirection, index: Int, kind: Kind, compressed: Bool, wireBytes: Int?,
                payloadOffset: UInt64, truncated: Bool, time: Timestamp) {
        self.direction = direction
        self.index = index
        self.kind = kind
        self.compressed = compressed
        self.wireBytes = wireBytes
        self.payloadOffset = payloadOffset
        self.truncated = truncated
        self.time = time
    }
}
