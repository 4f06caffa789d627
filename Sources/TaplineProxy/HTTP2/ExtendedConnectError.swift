/// Why an RFC 8441 extended CONNECT could not be bridged to the upstream.
/// The description is the message the client and the capture see.
enum ExtendedConnectError: Error, Equatable, CustomStringConvertible {
    /// `:protocol` names something other than `websocket`.
    case unsupportedProtocol(String)
    /// A pseudo-header RFC 8441 §4 requires is missing (`:scheme`, `:path` or `:authority`).
    case missingPseudoHeader(String)
    /// The HTTP/1.1 upstream answered a 2xx instead of switching protocols.
    case notSwitched(status: Int)
    /// The upstream's 101 did not say `Upgrade: websocket`.
    case wrongUpgrade
    /// The upstream's `Sec-WebSocket-Accept` does not match the key we sent.
    case wrongAccept

    var description: String {
        switch self {
        case .unsupportedProtocol(let name):
            return "extended CONNECT with :protocol \(name) is not supported by Tapline (only websocket)"
        case .missingPseudoHeader(let name):
            return "the extended CONNECT request has no \(name) pseudo-header (RFC 8441 §4)"
        case .notSwitched(let status):
            return "the upstream answered the WebSocket upgrade with \(status) instead of 101 Switching Protocols"
        case .wrongUpgrade:
            return "the upstream's 101 response does not say Upgrade: websocket"
        case .wrongAccept:
            return "the upstream's Sec-WebSocket-Accept does not match the Sec-WebSocket-Key Tapline sent"
        }
    }
}
