/// A violation of RFC 6455 / RFC 7692 found while decoding, with the close code
/// the RFC asks the receiving endpoint to close with (`closeCode`).
public enum WebSocketProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Opcodes 3-7 and 11-15 are reserved (1002).
    case reservedOpcode(UInt8)
    /// An RSV bit no negotiated extension defines (1002); `bits` as on the wire.
    case reservedBitsSet(bits: UInt8, opcode: WebSocketOpcode)
    /// A client sent an unmasked frame (1002).
    case unmaskedFrameFromClient
    /// A server sent a masked frame (1002).
    case maskedFrameFromServer
    /// A control frame longer than 125 bytes (1002).
    case controlFrameTooLarge(WebSocketOpcode)
    /// A control frame without FIN (1002).
    case fragmentedControlFrame(WebSocketOpcode)
    /// A 64-bit payload length with the most significant bit set (1002).
    case payloadLengthTopBitSet
    /// A continuation frame with no fragmented message in progress (1002).
    case unexpectedContinuation
    /// A new text or binary frame while a fragmented message is unfinished (1002).
    case expectedContinuation(WebSocketOpcode)
    /// A text message (or close reason) that is not valid UTF-8 (1007).
    case invalidUTF8
    /// A close reason that is not valid UTF-8 (1007).
    case invalidCloseReason
    /// A message larger than the configured maximum (1009).
    case messageTooLarge(limit: Int)
    /// A close frame with a one-byte payload (1002).
    case closePayloadTooShort
    /// A close code that may not be sent on the wire (1002): below 1000, 1004-1006, 1015, 1016-2999, 5000+.
    case invalidCloseCode(UInt16)
    /// A frame after this side's close frame (1002).
    case frameAfterClose(WebSocketOpcode)
    /// A compressed message that does not inflate (1007; set by the permessage-deflate layer).
    case invalidCompressedData(String)

    /// The status code to close the connection with (RFC 6455 §7.4.1).
    public var closeCode: UInt16 {
        switch self {
        case .invalidUTF8, .invalidCloseReason, .invalidCompressedData: return 1007
        case .messageTooLarge: return 1009
        default: return 1002
        }
    }

    public var description: String {
        switch self {
        case .reservedOpcode(let opcode): return "frame with reserved opcode \(opcode)"
        case .reservedBitsSet(let bits, let opcode):
            return "\(opcode) frame with RSV bits 0x\(String(bits, radix: 16)) that no negotiated extension defines"
        case .unmaskedFrameFromClient: return "the client sent an unmasked frame"
        case .maskedFrameFromServer: return "the server sent a masked frame"
        case .controlFrameTooLarge(let opcode): return "\(opcode) frame longer than 125 bytes"
        case .fragmentedControlFrame(let opcode): return "fragmented \(opcode) frame"
        case .payloadLengthTopBitSet: return "64-bit payload length with the most significant bit set"
        case .unexpectedContinuation: return "continuation frame without a message to continue"
        case .expectedContinuation(let opcode): return "\(opcode) frame in the middle of a fragmented message"
        case .invalidUTF8: return "text message that is not valid UTF-8"
        case .invalidCloseReason: return "close reason that is not valid UTF-8"
        case .messageTooLarge(let limit): return "message larger than the limit of \(limit) bytes"
        case .closePayloadTooShort: return "close frame with a 1-byte payload"
        case .invalidCloseCode(let code): return "close code \(code) is not allowed on the wire"
        case .frameAfterClose(let opcode): return "\(opcode) frame after the close frame"
        case .invalidCompressedData(let why): return "compressed message does not inflate: \(why)"
        }
    }
}
