import TaplineFlow

/// What `WebSocketTap` hands its caller, in order: a message (or control frame) to
/// record, or a piece of a large message's inflated payload, recorded ahead of the
/// message it belongs to (the next `.message` from that side with a `streamedPayloadSize`).
public enum WebSocketTapOutput: Equatable {
    case payloadPiece(fromClient: Bool, bytes: [UInt8])
    case message(WebSocketMessageRecord)
}
