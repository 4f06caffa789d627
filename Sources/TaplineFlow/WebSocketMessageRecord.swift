/// One WebSocket message as captured: who sent it, what kind, and its payload.
public struct WebSocketMessageRecord: Sendable, Equatable {
    public enum Opcode: String, Sendable, Equatable {
        case text, binary, ping, pong, close
    }

    /// True when the client sent it, false when the upstream did.
    public var fromClient: Bool
    public var opcode: Opcode
    /// The payload after joining fragments and decompressing (for `close`: the
    /// 2-byte code and the reason, as on the wire).
    public var payload: [UInt8]
    /// Bytes of all the frames of this message on the wire (headers included).
    public var wireBytes: UInt64
    /// The message was compressed with permessage-deflate.
    public var compressed: Bool

    public init(fromClient: Bool, opcode: Opcode, payload: [UInt8], wireBytes: UInt64, compressed: Bool) {
        self.fromClient = fromClient
        self.opcode = opcode
        self.payload = payload
        self.wireBytes = wireBytes
        self.compressed = compressed
    }
}
