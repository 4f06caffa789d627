/// One WebSocket message as captured: who sent it, what kind, and its payload.
public struct WebSocketMessageRecord: Sendable, Equatable {
    public enum Opcode: String, Sendable, Equatable {
        case text, binary, ping, pong, close
    }

    /// True when the client sent it, false when the upstream did.
    public var fromClient: Bool
    public var opcode: Opcode
    /// The payload after joining fragments and decompressing (for `close`: the
    /// 2-byte code and the reason, as on the wire). Empty when it was streamed.
    public var payload: [UInt8]
    /// Bytes of all the frames of this message on the wire (headers included).
    public var wireBytes: UInt64
    /// The message was compressed with permessage-deflate.
    public var compressed: Bool
    /// Set when the payload was recorded ahead of this record, as it was inflated, in
    /// `FlowEvent.webSocketPayload` pieces of this many bytes in all (`payload` is empty).
    public var streamedPayloadSize: UInt64?
    /// The capture's copy stopped at the proxy's message size cap (the message was
    /// relayed whole): the payload is only the message's first bytes. Compressed, `size`
    /// counts the bytes inflated (its inflated size is unknown); uncompressed, `size` is
    /// the real payload size (`wholePayloadSize`).
    public var decodingCapped: Bool
    /// With `decodingCapped`, when the tap set it: the cap the capture's copy stopped
    /// at, in bytes (the proxy's message size cap, 64 MiB unless configured otherwise),
    /// so readers state it rather than assume it. nil for a message not cut at a cap and
    /// for records that do not know it (HAR import).
    public var capSize: UInt64?
    /// Set when `payload` holds only the first bytes of a longer payload: the whole size.
    /// The tap sets it for an uncompressed message longer on the wire than the cap (with
    /// `decodingCapped`); HAR import for a message exported cut (`_tapline.size`).
    public var wholePayloadSize: UInt64?
    /// Set when this compressed message could not be inflated: an earlier message from
    /// the same side was cut at the cap, and with it the DEFLATE window (context
    /// takeover) this one refers to. Its compressed payload's size; `payload` is empty.
    public var undecodedCompressedSize: UInt64?

    public init(fromClient: Bool, opcode: Opcode, payload: [UInt8], wireBytes: UInt64, compressed: Bool,
                streamedPayloadSize: UInt64? = nil, decodingCapped: Bool = false,
                undecodedCompressedSize: UInt64? = nil, wholePayloadSize: UInt64? = nil, capSize: UInt64? = nil) {
        self.fromClient = fromClient
        self.opcode = opcode
        self.payload = payload
        self.wireBytes = wireBytes
        self.compressed = compressed
        self.streamedPayloadSize = streamedPayloadSize
        self.decodingCapped = decodingCapped
        self.undecodedCompressedSize = undecodedCompressedSize
        self.wholePayloadSize = wholePayloadSize
        self.capSize = capSize
    }

    /// The payload's size: streamed or held, the whole size of one cut at the cap on the
    /// wire, or for an undecoded message its compressed size.
    public var size: UInt64 {
        undecodedCompressedSize ?? streamedPayloadSize ?? wholePayloadSize ?? UInt64(payload.count)
    }
}
