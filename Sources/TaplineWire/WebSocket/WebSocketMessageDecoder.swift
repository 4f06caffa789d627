/// Sans-I/O WebSocket message decoder: a `WebSocketFrameDecoder` plus the rules
/// that span frames (RFC 6455 §5.4-5.6): fragments joined into messages, control
/// frames interleaved between fragments delivered at once (before the message
/// they interrupt), text validated as UTF-8 across fragments as it arrives,
/// close payloads parsed, nothing accepted after a close.
///
/// Memory: at most `maxMessageBytes` of a message's payload are held. A longer
/// message is not an error (the limit is the holder's, not the protocol's): its
/// first `maxMessageBytes` are kept, the rest is parsed, checked and dropped, and
/// it is yielded at its end with `isCapped` and its real `payloadSize`, so the
/// frames after it go on being decoded. Compressed messages (RSV1 with
/// permessage-deflate) are bounded the same way before inflation; their text is
/// validated after inflation by the layer that inflates.
///
/// Errors (`WebSocketProtocolError`, each with its close code) are sticky.
///
/// Usage: `append(_:)`, then `nextMessage()` until nil. Not thread-safe: a value
/// type owned by one connection's event loop.
public struct WebSocketMessageDecoder: Sendable {
    private struct Partial: Sendable {
        var opcode: WebSocketOpcode
        var compressed: Bool
        /// The first `maxMessageBytes` of the payload.
        var payload: [UInt8] = []
        /// The payload's size so far, counting the bytes dropped past `maxMessageBytes`.
        var payloadSize: UInt64 = 0
        var wireBytes: UInt64 = 0
        var frames = 0
        var utf8 = UTF8Validator()
    }

    public static let defaultMaxMessageBytes = 64 << 20

    public let maxMessageBytes: Int
    private var frames: WebSocketFrameDecoder
    /// The data message being assembled across frames.
    private var message: Partial?
    /// The frame being read: the control frame, or nil when it belongs to `message`.
    private var control: Partial?
    private var dataFrameIsFinal = false
    private var closeReceived = false
    private var failure: WebSocketProtocolError?

    /// - Parameters:
    ///   - role: the endpoint receiving these bytes (`.server` decodes what a client sends).
    ///   - compression: permessage-deflate was negotiated (RSV1 allowed on first frames).
    public init(role: WebSocketRole, compression: Bool = false, maxMessageBytes: Int = defaultMaxMessageBytes) {
        frames = WebSocketFrameDecoder(role: role, extensionBits: compression ? WebSocketFrameHeader.rsv1 : 0)
        self.maxMessageBytes = maxMessageBytes
    }

    public var role: WebSocketRole { frames.role }
    /// A close frame has been decoded: the sender will send nothing more.
    public var hasReceivedClose: Bool { closeReceived }
    /// A fragmented message has started and not finished, or a frame is partly received.
    public var isInsideMessage: Bool { message != nil || control != nil || !frames.isAtFrameBoundary }
    public var bufferedByteCount: Int { frames.bufferedByteCount }
    /// Payload bytes held of the data message being assembled: at most `maxMessageBytes`.
    public var heldPayloadByteCount: Int { message?.payload.count ?? 0 }

    public mutating func append(_ bytes: ArraySlice<UInt8>) {
        frames.append(bytes)
    }

    public mutating func append(_ bytes: [UInt8]) {
        frames.append(bytes)
    }

    /// The next complete message or control frame, or nil when more bytes are needed.
    public mutating func nextMessage() throws(WebSocketProtocolError) -> WebSocketMessage? {
        if let failure { throw failure }
        do throws(WebSocketProtocolError) {
            while let event = try frames.nextEvent() {
                if let done = try handle(event) { return done }
            }
            return nil
        } catch {
            failure = error
            throw error
        }
    }

    private mutating func handle(_ event: WebSocketFrameEvent) throws(WebSocketProtocolError) -> WebSocketMessage? {
        switch event {
        case .head(let header):
            if closeReceived { throw .frameAfterClose(header.opcode) }
            if header.opcode.isControl {
                control = Partial(opcode: header.opcode, compressed: false, wireBytes: header.wireLength, frames: 1)
                return nil
            }
            if header.opcode == .continuation {
                guard message != nil else { throw .unexpectedContinuation }
            } else {
                if message != nil { throw .expectedContinuation(header.opcode) }
                message = Partial(opcode: header.opcode, compressed: header.reservedBits & WebSocketFrameHeader.rsv1 != 0)
            }
            message?.wireBytes += header.wireLength
            message?.frames += 1
            if let held = message?.payload.count, held < maxMessageBytes, header.payloadLength > 0 {
                let room = UInt64(maxMessageBytes - held)
                message?.payload.reserveCapacity(held + Int(min(header.payloadLength, room)))
            }
            dataFrameIsFinal = header.fin
            return nil
        case .payload(let bytes):
            if control != nil {
                control?.payload.append(contentsOf: bytes)
                return nil
            }
            guard var current = message else { return nil }
            message = nil  // keep the payload uniquely referenced while appending
            current.payload.append(contentsOf: bytes.prefix(max(0, maxMessageBytes - current.payload.count)))
            current.payloadSize += UInt64(bytes.count)
            if current.opcode == .text, !current.compressed, !current.utf8.validate(bytes) { throw .invalidUTF8 }
            message = current
            return nil
        case .end:
            if let finished = control {
                control = nil
                var result = WebSocketMessage(opcode: finished.opcode, payload: finished.payload,
                                              wireBytes: finished.wireBytes)
                if finished.opcode == .close {
                    result.close = try WebSocketClosePayload(parsing: finished.payload)
                    closeReceived = true
                }
                return result
            }
            guard dataFrameIsFinal, let finished = message else { return nil }
            message = nil
            if finished.opcode == .text, !finished.compressed, !finished.utf8.isComplete { throw .invalidUTF8 }
            return WebSocketMessage(opcode: finished.opcode, payload: finished.payload, compressed: finished.compressed,
                                    wireBytes: finished.wireBytes, frameCount: finished.frames,
                                    payloadSize: finished.payloadSize)
        }
    }
}
