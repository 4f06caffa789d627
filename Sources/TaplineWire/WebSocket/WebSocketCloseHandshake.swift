/// The close handshake of one WebSocket connection seen from the middle
/// (RFC 6455 §7.1.2): which side sent a close frame first and whether the other
/// side has answered. A proxy uses it to know when the connection is done and
/// when to give up waiting for an answer; an endpoint uses it to know whether to
/// echo a close.
///
/// A value type owned by one connection's event loop; no clocks (the owner times).
public struct WebSocketCloseHandshake: Sendable, Equatable {
    public enum Side: Sendable, Equatable {
        case client
        case server
    }

    public private(set) var clientClose: WebSocketClosePayload?
    public private(set) var serverClose: WebSocketClosePayload?
    /// The side whose close frame came first.
    public private(set) var initiator: Side?

    public init() {}

    /// Records a close frame from `side` (only its first close counts).
    public mutating func closeReceived(from side: Side, _ payload: WebSocketClosePayload) {
        switch side {
        case .client where clientClose == nil: clientClose = payload
        case .server where serverClose == nil: serverClose = payload
        default: return
        }
        if initiator == nil { initiator = side }
    }

    /// Both sides have sent their close frame: only the TCP close remains.
    public var isComplete: Bool { clientClose != nil && serverClose != nil }

    /// The side that has been sent a close and not answered yet.
    public var awaitingAnswerFrom: Side? {
        switch (clientClose != nil, serverClose != nil) {
        case (true, false): return .server
        case (false, true): return .client
        default: return nil
        }
    }
}
