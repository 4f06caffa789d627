/// The fixed part of a WebSocket frame (RFC 6455 §5.2), as read from the wire.
///
/// Invariants (checked by `WebSocketFrameDecoder`): control frames have `fin`
/// set and at most 125 bytes of payload; `payloadLength < 2^63`.
public struct WebSocketFrameHeader: Sendable, Equatable {
    public var fin: Bool
    /// The three RSV bits in their wire positions (`0x40` RSV1, `0x20` RSV2, `0x10` RSV3).
    public var reservedBits: UInt8
    public var opcode: WebSocketOpcode
    /// The masking key, most significant byte first, when the frame is masked.
    public var maskKey: UInt32?
    public var payloadLength: UInt64
    /// Bytes of the header on the wire: 2 to 14.
    public var headerLength: Int

    /// RSV1: set on the first frame of a permessage-deflate compressed message (RFC 7692).
    public static let rsv1: UInt8 = 0x40

    public init(fin: Bool, reservedBits: UInt8 = 0, opcode: WebSocketOpcode, maskKey: UInt32?, payloadLength: UInt64) {
        self.fin = fin
        self.reservedBits = reservedBits & 0x70
        self.opcode = opcode
        self.maskKey = maskKey
        self.payloadLength = payloadLength
        self.headerLength = 2 + (payloadLength < 126 ? 0 : payloadLength <= 0xFFFF ? 2 : 8) + (maskKey == nil ? 0 : 4)
    }

    /// Header plus payload bytes on the wire.
    public var wireLength: UInt64 { UInt64(headerLength) + payloadLength }
}
