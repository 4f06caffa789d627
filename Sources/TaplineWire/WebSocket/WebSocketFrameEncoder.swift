/// Serializes WebSocket frames (RFC 6455 §5.2) for one role: a client masks
/// every frame (a fresh random key unless one is given), a server never does.
/// Lengths use the shortest of the 7-, 16- and 64-bit forms.
///
/// Pure: no I/O; the only outside input is the random mask key for clients.
/// A value type, safe to copy between threads.
public struct WebSocketFrameEncoder: Sendable {
    public let role: WebSocketRole

    public init(role: WebSocketRole) {
        self.role = role
    }

    /// One frame. For a client, `maskKey` (or a random one) masks the payload; for a
    /// server `maskKey` is ignored. Checking control-frame limits is the caller's
    /// business (the decoder checks what it receives).
    public func frame(_ opcode: WebSocketOpcode, payload: some Collection<UInt8>, fin: Bool = true,
                      reservedBits: UInt8 = 0, maskKey: UInt32? = nil) -> [UInt8] {
        let key: UInt32? = role == .client ? (maskKey ?? UInt32.random(in: .min ... .max)) : nil
        let header = WebSocketFrameHeader(fin: fin, reservedBits: reservedBits, opcode: opcode, maskKey: key,
                                          payloadLength: UInt64(payload.count))
        var out = Self.headerBytes(header)
        out.reserveCapacity(header.headerLength + payload.count)
        if let key {
            var body = Array(payload)
            WebSocketMask.apply(key: key, offset: 0, to: &body)
            out.append(contentsOf: body)
        } else {
            out.append(contentsOf: payload)
        }
        return out
    }

    /// A close frame carrying `close`.
    public func closeFrame(_ close: WebSocketClosePayload, maskKey: UInt32? = nil) -> [UInt8] {
        frame(.close, payload: close.bytes, maskKey: maskKey)
    }

    /// The header bytes of `header` (shortest length form; masking key when present).
    public static func headerBytes(_ header: WebSocketFrameHeader) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(14)
        out.append((header.fin ? 0x80 : 0) | header.reservedBits | header.opcode.rawValue)
        let maskBit: UInt8 = header.maskKey == nil ? 0 : 0x80
        let length = header.payloadLength
        if length < 126 {
            out.append(maskBit | UInt8(length))
        } else if length <= 0xFFFF {
            out.append(maskBit | 126)
            out.append(UInt8(length >> 8))
            out.append(UInt8(truncatingIfNeeded: length))
        } else {
            out.append(maskBit | 127)
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: length >> UInt64(shift))) }
        }
        if let key = header.maskKey {
            for shift in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: key >> UInt32(shift))) }
        }
        return out
    }
}
