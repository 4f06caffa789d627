/// One complete WebSocket message (fragments joined) or control frame, as
/// `WebSocketMessageDecoder` yields it.
///
/// Invariants: `opcode` is never `.continuation`; `close` is set exactly when
/// `opcode == .close`; `payload` is unmasked but still compressed when
/// `compressed` (permessage-deflate is undone one layer up); `payloadSize >=
/// payload.count`, greater exactly when the message was longer than the decoder's
/// `maxMessageBytes` and `payload` holds only its first bytes (`isCapped`).
public struct WebSocketMessage: Sendable, Equatable {
    public var opcode: WebSocketOpcode
    public var payload: [UInt8]
    /// The payload's size on the wire (after unmasking, before inflating), whole.
    public var payloadSize: UInt64
    /// RSV1 was set on the first frame: the payload is DEFLATE data (RFC 7692).
    public var compressed: Bool
    /// Bytes of all frames of the message on the wire, headers included.
    public var wireBytes: UInt64
    /// Frames the message came in (1 for control frames).
    public var frameCount: Int
    /// The parsed close payload of a close frame.
    public var close: WebSocketClosePayload?

    public init(opcode: WebSocketOpcode, payload: [UInt8], compressed: Bool = false, wireBytes: UInt64,
                frameCount: Int = 1, close: WebSocketClosePayload? = nil, payloadSize: UInt64? = nil) {
        self.opcode = opcode
        self.payload = payload
        self.payloadSize = payloadSize ?? UInt64(payload.count)
        self.compressed = compressed
        self.wireBytes = wireBytes
        self.frameCount = frameCount
        self.close = close
    }

    /// The message was longer than the decoder's limit: `payload` is its first
    /// `maxMessageBytes`, `payloadSize` its real size (the rest was dropped, not held).
    public var isCapped: Bool { payloadSize > UInt64(payload.count) }
}
