/// Why a WebSocket opening handshake (RFC 6455 §4, RFC 7692 §5) is not acceptable.
public enum WebSocketHandshakeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `Sec-WebSocket-Extensions` does not follow the RFC 6455 §9.1 grammar.
    case malformedExtensions(String)
    /// A permessage-deflate parameter is unknown, repeated or has a bad value.
    case invalidDeflateParameter(String)

    public var description: String {
        switch self {
        case .malformedExtensions(let why): return "malformed Sec-WebSocket-Extensions: \(why)"
        case .invalidDeflateParameter(let why): return "invalid permessage-deflate parameter: \(why)"
        }
    }
}
