import TaplineCompression
import TaplineWire

/// Undoes permessage-deflate (RFC 7692 §7.2.2) for one direction of a WebSocket
/// connection: appends `00 00 ff ff` to a compressed message and inflates it,
/// keeping the window between messages unless the sender negotiated
/// `*_no_context_takeover`.
///
/// Lives in TaplineProxy (not TaplineWire) because it needs zlib: TaplineWire
/// stays free of C, and TaplineCompression knows nothing about WebSocket.
///
/// Always inflates with a 2^15 window: a larger window decodes any stream made
/// with a smaller one, and zlib cannot be asked for the 8-bit windows some peers
/// negotiate. Output is bounded by `maxMessageBytes` (a decompression bomb is
/// refused with close code 1009), text is UTF-8-checked after inflation (1007).
///
/// Thread ownership: confined to its relay's event loop.
final class WebSocketMessageInflater {
    private let inflater: ZlibInflater
    private let noContextTakeover: Bool
    private let maxMessageBytes: Int
    private static let tail: [UInt8] = [0x00, 0x00, 0xFF, 0xFF]

    init(noContextTakeover: Bool, maxMessageBytes: Int) throws(CompressionError) {
        self.inflater = try ZlibInflater(format: .raw(windowBits: 15), maxOutputBytes: maxMessageBytes)
        self.noContextTakeover = noContextTakeover
        self.maxMessageBytes = maxMessageBytes
    }

    /// The payload of `message` as the application sees it: inflated when it is compressed.
    func payload(of message: WebSocketMessage) throws(WebSocketProtocolError) -> [UInt8] {
        guard message.compressed else { return message.payload }
        // A message ending in a final DEFLATE block ends the stream: the next one starts afresh.
        if noContextTakeover || inflater.isFinished {
            inflater.reset()
        } else {
            inflater.resetOutputCount()
        }
        var output: [UInt8] = []
        do throws(CompressionError) {
            try inflater.decompress(message.payload, into: &output)
            if !inflater.isFinished { try inflater.decompress(Self.tail, into: &output) }
        } catch {
            if case .outputLimitExceeded = error { throw .messageTooLarge(limit: maxMessageBytes) }
            throw .invalidCompressedData(error.description)
        }
        if message.opcode == .text, !UTF8Validator.isValidUTF8(output) { throw .invalidUTF8 }
        return output
    }
}
