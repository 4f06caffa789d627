/// Which end of a WebSocket connection a codec plays. It decides the masking
/// rules (RFC 6455 §5.1): a client masks every frame it sends and a server
/// never does, so a decoder in the `server` role requires masked frames and one
/// in the `client` role refuses them.
///
/// A proxy decodes each direction as the endpoint receiving it: client-to-server
/// bytes with `.server`, server-to-client bytes with `.client`.
public enum WebSocketRole: Sendable, Equatable {
    case client
    case server

    /// True when frames this role receives must be masked.
    var receivesMaskedFrames: Bool { self == .server }
}
