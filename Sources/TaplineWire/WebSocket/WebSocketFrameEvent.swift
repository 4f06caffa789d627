/// What `WebSocketFrameDecoder` yields: a frame's header, then its payload in
/// one or more pieces as they arrive (already unmasked), then its end.
/// A frame with an empty payload yields `head` then `end`.
public enum WebSocketFrameEvent: Sendable, Equatable {
    case head(WebSocketFrameHeader)
    /// Payload bytes (never empty), unmasked.
    case payload(ArraySlice<UInt8>)
    case end
}
