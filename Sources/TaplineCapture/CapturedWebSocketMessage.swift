import TaplineFlow
import TaplineWire

/// One WebSocket message of a captured `websocket` flow, as read back from a
/// `wsMessage` line: who sent it, when, its kind, sizes and where its payload is.
///
/// Invariants: either `inlinePayload` is set or `extents` is not empty (a payload of
/// more than 64 KiB is stored in a body segment: one extent, or several when the
/// proxy streamed it as it was inflated); `size` is the payload size after
/// decompression, `wireBytes` the frames' size on the wire; `truncated` is true when
/// `--max-body-capture` kept only the first bytes, or the message hit the 64 MiB
/// message cap. `decodingCapped` says it was the cap (it implies `truncated`): the
/// message was relayed whole; only the capture's copy stops there. Uncompressed, the
/// message was over the cap on the wire and `size` is its real size; compressed,
/// `size` counts what was decoded (the message was longer). `undecoded` marks a later compressed
/// message of that side that could not be inflated (the DEFLATE window was lost with
/// the cut): nothing is stored, `size` is its compressed size (it implies `truncated`).
/// A value type.
public struct CapturedWebSocketMessage: Sendable, Equatable {
    public var time: Timestamp
    /// True when the client sent it, false when the server did.
    public var fromClient: Bool
    /// `text`, `binary`, `ping`, `pong` or `close` (unknown opcodes are kept as strings).
    public var opcode: String
    public var wireBytes: UInt64
    public var size: UInt64
    public var compressed: Bool
    /// Close frames: the status code and reason, when the frame carried a code.
    public var closeCode: Int?
    public var closeReason: String?
    public var inlinePayload: [UInt8]?
    /// Where a payload stored in body segments is, in order.
    public var extents: [BodyExtent]
    public var truncated: Bool
    /// The capture's copy stopped at the proxy's message cap (64 MiB): compressed, `size`
    /// is what was decoded and the message inflated to more; uncompressed, `size` is the
    /// real size of a message that was over the cap on the wire. The capture's limit,
    /// not the peer's fault.
    public var decodingCapped: Bool
    /// With `decodingCapped`: the cap the capture's copy stopped at, in bytes, as the
    /// `wsMessage` line recorded it (`cap`); nil in captures written before it was
    /// recorded and for messages imported from a HAR.
    public var capSize: UInt64?
    /// The message could not be inflated because an earlier message from the same side
    /// was cut at the cap: `size` is its compressed payload's size, no payload is stored.
    public var undecoded: Bool

    public init(time: Timestamp, fromClient: Bool, opcode: String, wireBytes: UInt64, size: UInt64, compressed: Bool,
                closeCode: Int? = nil, closeReason: String? = nil, inlinePayload: [UInt8]? = nil,
                extents: [BodyExtent] = [], truncated: Bool = false, decodingCapped: Bool = false,
                undecoded: Bool = false, capSize: UInt64? = nil) {
        self.time = time
        self.fromClient = fromClient
        self.opcode = opcode
        self.wireBytes = wireBytes
        self.size = size
        self.compressed = compressed
        self.closeCode = closeCode
        self.closeReason = closeReason
        self.inlinePayload = inlinePayload
        self.extents = extents
        self.truncated = truncated
        self.decodingCapped = decodingCapped
        self.undecoded = undecoded
        self.capSize = capSize
    }

    /// The stored payload (decompressed), read from the body segment when it was spilled.
    /// - Parameter limit: read at most this many bytes (previews).
    /// - Throws: `cannotRead` when the segment is missing or too short (damaged session).
    public func payload(sessionDirectory: String, limit: Int = .max) throws(CaptureError) -> [UInt8] {
        if let inlinePayload { return Array(inlinePayload.prefix(limit)) }
        guard !extents.isEmpty else { return [] }
        var body = CapturedBody(sessionDirectory: sessionDirectory)
        body.extents = extents
        body.capturedBytes = storedBytes
        return try body.bodyData(limit: Int(min(UInt64(limit), storedBytes)))
    }

    /// Bytes of the payload kept in the capture.
    public var storedBytes: UInt64 {
        inlinePayload.map { UInt64($0.count) } ?? extents.reduce(0) { $0 + $1.length }
    }
}
