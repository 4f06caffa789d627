/// Sans-I/O WebSocket frame decoder (RFC 6455 §5.2): bytes in, frame headers and
/// unmasked payload pieces out, with the frame-level rules enforced.
///
/// Usage: `append(_:)` bytes as they arrive, then pull `nextEvent()` until it
/// returns nil (needs more bytes). Every frame yields `.head`, then its payload as
/// `.payload` pieces (as much as has arrived, so a 20 MiB frame streams), then
/// `.end`. The result does not depend on how the input was split.
///
/// Checked here (each throws `WebSocketProtocolError`, close code 1002): reserved
/// opcodes; RSV bits other than `extensionBits` (which are only allowed on the
/// first frame of a text/binary message); masking per `role`; control frames that
/// are fragmented or longer than 125 bytes; a 64-bit length with its top bit set.
/// Rules that need more than one frame (continuations, UTF-8, message size) are
/// `WebSocketMessageDecoder`'s. Errors are detected as early as the bytes allow
/// and are sticky: after one, every call throws it again.
///
/// Not thread-safe: a value type owned by one connection (and so its event loop).
public struct WebSocketFrameDecoder: Sendable {
    private enum State: Sendable {
        case header
        case payload(header: WebSocketFrameHeader, received: UInt64)
    }

    public let role: WebSocketRole
    /// RSV bits a negotiated extension defines (`WebSocketFrameHeader.rsv1` for permessage-deflate).
    public let extensionBits: UInt8
    private var buffer = HTTP1ByteBuffer()
    private var state = State.header
    private var failure: WebSocketProtocolError?

    public init(role: WebSocketRole, extensionBits: UInt8 = 0) {
        self.role = role
        self.extensionBits = extensionBits & 0x70
    }

    /// Bytes appended and not yet turned into events.
    public var bufferedByteCount: Int { buffer.readableCount }

    /// True between frames (no partial header or payload pending).
    public var isAtFrameBoundary: Bool {
        if case .header = state { return buffer.readableCount == 0 }
        return false
    }

    public mutating func append(_ bytes: ArraySlice<UInt8>) {
        bytes.withUnsafeBufferPointer { buffer.append($0) }
    }

    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { buffer.append($0) }
    }

    /// The next event, or nil when more bytes are needed.
    public mutating func nextEvent() throws(WebSocketProtocolError) -> WebSocketFrameEvent? {
        if let failure { throw failure }
        do throws(WebSocketProtocolError) {
            switch state {
            case .header:
                guard let header = try readHeader() else { return nil }
                state = .payload(header: header, received: 0)
                return .head(header)
            case .payload(let header, let received):
                if received == header.payloadLength {
                    state = .header
                    return .end
                }
                let available = buffer.readableCount
                guard available > 0 else { return nil }
                let take = Int(min(UInt64(available), header.payloadLength - received))
                if let key = header.maskKey {
                    buffer.withMutableReadableBytes(take) { WebSocketMask.apply(key: key, offset: received, to: $0) }
                }
                let piece = buffer.readSlice(take)
                state = .payload(header: header, received: received + UInt64(take))
                return .payload(piece)
            }
        } catch {
            failure = error
            throw error
        }
    }

    /// Reads a complete header, checking each rule as soon as its bytes are there.
    private mutating func readHeader() throws(WebSocketProtocolError) -> WebSocketFrameHeader? {
        let available = buffer.readableCount
        guard available >= 2 else { return nil }
        let first = buffer.byte(at: 0), second = buffer.byte(at: 1)
        guard let opcode = WebSocketOpcode(rawValue: first & 0x0F) else { throw .reservedOpcode(first & 0x0F) }
        let fin = first & 0x80 != 0
        let rsv = first & 0x70
        let allowed: UInt8 = (opcode == .text || opcode == .binary) ? extensionBits : 0
        if rsv & ~allowed != 0 { throw .reservedBitsSet(bits: rsv, opcode: opcode) }
        let masked = second & 0x80 != 0
        if masked != role.receivesMaskedFrames {
            throw masked ? .maskedFrameFromServer : .unmaskedFrameFromClient
        }
        let shortLength = second & 0x7F
        if opcode.isControl {
            if !fin { throw .fragmentedControlFrame(opcode) }
            if shortLength > 125 { throw .controlFrameTooLarge(opcode) }
        }
        let lengthBytes = shortLength == 127 ? 8 : shortLength == 126 ? 2 : 0
        let headerLength = 2 + lengthBytes + (masked ? 4 : 0)
        if lengthBytes == 8, available >= 3, buffer.byte(at: 2) & 0x80 != 0 { throw .payloadLengthTopBitSet }
        guard available >= headerLength else { return nil }
        var length = UInt64(shortLength)
        if lengthBytes > 0 {
            length = 0
            for i in 0..<lengthBytes { length = length << 8 | UInt64(buffer.byte(at: 2 + i)) }
        }
        var key: UInt32?
        if masked {
            var value: UInt32 = 0
            for i in 0..<4 { value = value << 8 | UInt32(buffer.byte(at: 2 + lengthBytes + i)) }
            key = value
        }
        buffer.consume(headerLength)
        var header = WebSocketFrameHeader(fin: fin, reservedBits: rsv, opcode: opcode, maskKey: key, payloadLength: length)
        header.headerLength = headerLength  // as on the wire (lengths need not be minimally encoded)
        return header
    }
}
