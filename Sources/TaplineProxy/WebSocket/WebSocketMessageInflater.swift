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
/// negotiate. A message is inflated in steps (`begin`, then `inflate(atLeast:into:)`
/// until it reports the end), so its caller never holds more than a step of output
/// and can spread a large message over several turns. Output is bounded by
/// `maxMessageBytes` per message (beyond it: `messageTooLarge`, close code 1009),
/// text is UTF-8-checked as it is inflated (1007). A message abandoned at that cap
/// leaves the DEFLATE window unknown: with context takeover `canInflateNextMessage`
/// turns false for good (later messages refer to bytes never inflated); without it
/// each message starts afresh, so inflating goes on with the next one. A message
/// whose compressed payload was itself longer than the cap (`isCapped`: only its
/// first bytes were kept) is inflated as far as those bytes go and then ends the
/// same way, at `messageTooLarge`.
///
/// Thread ownership: confined to its relay's event loop.
final class WebSocketMessageInflater {
    private let inflater: ZlibInflater
    private let noContextTakeover: Bool
    /// Most bytes a message inflates to; past it, `messageTooLarge`.
    let maxMessageBytes: Int
    private static let tail: [UInt8] = [0x00, 0x00, 0xFF, 0xFF]

    /// The compressed payload of the message being inflated (nil between messages),
    /// which part zlib is taking (`tail` goes in after the payload unless the payload
    /// ended the DEFLATE stream), and how much of each it took.
    private var input: [UInt8]?
    private var phase = Phase.payload
    private var inputUsed = 0
    private var tailUsed = 0
    /// The input is only the first bytes of the message's compressed payload.
    private var inputIsCut = false
    private var utf8: UTF8Validator?
    private enum Phase { case payload, tail }

    init(noContextTakeover: Bool, maxMessageBytes: Int) throws(CompressionError) {
        self.inflater = try ZlibInflater(format: .raw(windowBits: 15), maxOutputBytes: maxMessageBytes)
        self.noContextTakeover = noContextTakeover
        self.maxMessageBytes = maxMessageBytes
    }

    /// True between `begin` and the step that reported the message's end (or failed).
    var isInflating: Bool { input != nil }
    /// False once a message was abandoned at `maxMessageBytes` while the sender keeps its
    /// compression context: the next messages' back-references point into the part that
    /// was never inflated, so `begin` must not be called again. Stays true without
    /// context takeover (each message is a fresh DEFLATE stream).
    private(set) var canInflateNextMessage = true

    /// Starts inflating `message`, which must be compressed; its payload is kept until
    /// the message's end. Requires `canInflateNextMessage`.
    func begin(_ message: WebSocketMessage) {
        precondition(canInflateNextMessage, "the DEFLATE window was lost at the size cap")
        // A message ending in a final DEFLATE block ends the stream: the next one starts afresh.
        if noContextTakeover || inflater.isFinished {
            inflater.reset()
        } else {
            inflater.resetOutputCount()
        }
        input = message.payload
        inputIsCut = message.isCapped
        phase = .payload
        inputUsed = 0
        tailUsed = 0
        utf8 = message.opcode == .text ? UTF8Validator() : nil
    }

    /// Inflates at least `step` more bytes of the message begun last (at most 64 KiB
    /// more), or up to its end, appending them to `output`; true once the message is
    /// complete. After a thrown error the message is abandoned. After
    /// `messageTooLarge` the next message can be begun when `canInflateNextMessage`;
    /// after any other error the direction's DEFLATE stream is broken: the caller stops
    /// decoding that direction.
    func inflate(atLeast step: Int, into output: inout [UInt8]) throws(WebSocketProtocolError) -> Bool {
        guard let input else { return true }
        let start = output.count
        var ended = false
        var inputRanOut = false
        do throws(CompressionError) {
            while case let room = step - (output.count - start), room > 0 {
                let before = output.count
                switch phase {
                case .payload:
                    inputUsed += try inflater.decompress(input[inputUsed...], stoppingAfter: room, into: &output)
                case .tail:
                    tailUsed += try inflater.decompress(Self.tail[tailUsed...], stoppingAfter: room, into: &output)
                }
                if output.count - before >= room { break }  // stopped for the step: zlib may hold more
                // This part is used up and zlib holds nothing more of it.
                if phase == .payload, !inflater.isFinished {
                    // The rest of the payload was dropped at the cap: the message ends here.
                    if inputIsCut {
                        inputRanOut = true
                        break
                    }
                    phase = .tail
                    continue
                }
                ended = true
                break
            }
        } catch {
            self.input = nil
            if case .outputLimitExceeded = error {
                abandonedAtCap()
                throw .messageTooLarge(limit: maxMessageBytes)
            }
            throw .invalidCompressedData(error.description)
        }
        if inputRanOut {
            self.input = nil
            abandonedAtCap()
            throw .messageTooLarge(limit: maxMessageBytes)
        }
        if var validator = utf8 {
            let valid = output[start...].withUnsafeBufferPointer { validator.validate($0) }  // the specialized entry point
            utf8 = validator
            guard valid, !ended || validator.isComplete else {
                self.input = nil
                throw .invalidUTF8
            }
        }
        if ended { self.input = nil }
        return ended
    }

    /// The message was cut at the cap: with context takeover the window is lost for good.
    private func abandonedAtCap() {
        if !noContextTakeover { canInflateNextMessage = false }
    }
}
