import TaplineCompression
import TaplineWire

/// Compresses the whole messages one endpoint sends under permessage-deflate (RFC 7692
/// §7.2.1): raw DEFLATE with the window that endpoint was given, a sync flush per message
/// with its trailing `00 00 ff ff` removed, and the window kept from message to message
/// unless that endpoint's `no_context_takeover` was agreed. The frames come from the
/// caller's `WebSocketFrameEncoder`, RSV1 set on a compressed one. The counterpart of
/// `WebSocketMessageInflater`, for the endpoints Tapline plays itself: `tapline replay`'s
/// client and `tapline mock`'s server.
///
/// Thread ownership: confined to its owner's loop.
public final class WebSocketMessageDeflater {
    private let deflater: ZlibDeflater
    private let keepsContext: Bool

    /// nil when zlib cannot compress with the window `role` was given (8 bits: zlib's raw
    /// DEFLATE takes 9 to 15); that endpoint's messages then go uncompressed, which RFC
    /// 7692 §6 always allows.
    public init?(_ parameters: PerMessageDeflateParameters, role: WebSocketRole) {
        let bits = role == .client ? parameters.clientWindowBits : parameters.serverWindowBits
        guard let deflater = try? ZlibDeflater(format: .raw(windowBits: bits)) else { return nil }
        self.deflater = deflater
        keepsContext = !(role == .client ? parameters.clientNoContextTakeover : parameters.serverNoContextTakeover)
    }

    /// The frame of one whole message: compressed, or as it is when zlib fails.
    public func frame(_ opcode: WebSocketOpcode, payload: [UInt8], encoder: WebSocketFrameEncoder) -> [UInt8] {
        var compressed: [UInt8] = []
        do {
            try deflater.compress(payload, flush: .sync, into: &compressed)
        } catch {
            return encoder.frame(opcode, payload: payload)
        }
        if !keepsContext { deflater.reset() }
        if compressed.suffix(4).elementsEqual([0x00, 0x00, 0xFF, 0xFF]) { compressed.removeLast(4) }
        return encoder.frame(opcode, payload: compressed, reservedBits: WebSocketFrameHeader.rsv1)
    }
}
