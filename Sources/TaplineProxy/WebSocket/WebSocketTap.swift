import TaplineCompression
import TaplineFlow
import TaplineWire

/// Decodes a copy of both directions of a relayed WebSocket connection into the
/// messages the capture records: frames joined, permessage-deflate undone, close
/// frames tracked in a `WebSocketCloseHandshake`. Pure protocol logic: bytes in,
/// `WebSocketTapOutput`s out; the relay does the I/O.
///
/// Memory: a compressed message is inflated in steps of `inflationStep` bytes. Up to
/// `heldPayloadLimit` of its output is held and recorded with the message; past that,
/// what is held goes out as a `.payloadPiece` and so does every later step that inflated
/// something (never an empty piece), and the message's record carries only its size
/// (`streamedPayloadSize`). So a direction holds
/// at most its compressed message (what the peer sent) plus `heldPayloadLimit` and one
/// step of output, whatever the message inflates to. `decode` stops after `inflationBudget` bytes of
/// output and reports the message unfinished; the caller resumes it later, so a
/// decompression bomb is decoded in bounded turns that wait for the recorder. A
/// message that inflates past `maxMessageBytes` is recorded up to there
/// (`decodingCapped`). That is the capture's limit, not a protocol failure: the
/// direction's frames go on being decoded, so its control frames (the close
/// handshake) and later messages are recorded. With context takeover the DEFLATE
/// window was lost with the cut, so that side's later compressed messages are
/// recorded with their compressed size only (`undecodedCompressedSize`); without it
/// inflating resumes with the next message. A message already longer than
/// `maxMessageBytes` on the wire is bounded by the decoder, which keeps its first
/// `maxMessageBytes` and drops the rest: uncompressed, it is recorded with those bytes,
/// `decodingCapped` and its real size (`wholePayloadSize`); compressed, what those
/// bytes inflate to is recorded as above, and it counts as a cut for the window.
/// Either way the direction goes on being decoded.
///
/// Order: messages come out in the order their last bytes reached the proxy, across
/// both directions. While a message is part-way inflated, bytes received from either
/// side wait (`isBehind`) and are decoded, in the order they came, once it is done; so a
/// server's answer relayed while the client's large message was still being inflated
/// for the capture is recorded after that message, as it happened on the wire.
///
/// A direction that breaks the protocol stops being decoded (its failure is kept
/// for the flow's end); its bytes are still relayed unchanged by the relay, and
/// the receiving endpoint enforces the RFC itself.
///
/// Also decodes both directions of a replayed WebSocket (`tapline replay`), so it is
/// recorded as a relayed one is.
///
/// Thread ownership: confined to its relay's event loop.
public struct WebSocketTap {
    /// Output held per message before it is streamed (the capture's inline payload size).
    static let heldPayloadLimit = 64 << 10
    /// Output of one inflation step (and so of each streamed piece, give or take 64 KiB).
    static let inflationStep = 64 << 10

    /// A compressed message being inflated: what its record needs, and its output so far.
    private struct Inflation {
        var message: WebSocketMessage
        var held: [UInt8] = []
        var streamed: UInt64 = 0
    }

    private var clientDecoder: WebSocketMessageDecoder
    private var serverDecoder: WebSocketMessageDecoder
    private var clientInflater: WebSocketMessageInflater?
    private var serverInflater: WebSocketMessageInflater?
    private var clientInflation: Inflation?
    private var serverInflation: Inflation?
    /// Bytes received while decoding was behind, oldest first, with the side that sent them.
    private var waiting: [(fromClient: Bool, bytes: ArraySlice<UInt8>)] = []
    private var nextWaiting = 0
    public private(set) var closeHandshake = WebSocketCloseHandshake()
    /// Why decoding the client's / server's bytes stopped, if it did.
    public private(set) var clientFailure: String?
    public private(set) var serverFailure: String?

    /// - Parameters:
    ///   - deflate: the permessage-deflate parameters the server accepted, if any.
    ///   - setupFailure: set when the handshake could not be understood (e.g. a malformed
    ///     `Sec-WebSocket-Extensions`): nothing is decoded, bytes are still relayed.
    init(deflate: PerMessageDeflateParameters?, setupFailure: String? = nil,
         maxMessageBytes: Int = WebSocketMessageDecoder.defaultMaxMessageBytes) {
        let compression = deflate != nil
        clientDecoder = WebSocketMessageDecoder(role: .server, compression: compression, maxMessageBytes: maxMessageBytes)
        serverDecoder = WebSocketMessageDecoder(role: .client, compression: compression, maxMessageBytes: maxMessageBytes)
        clientFailure = setupFailure
        serverFailure = setupFailure
        if let deflate {
            do throws(CompressionError) {
                clientInflater = try WebSocketMessageInflater(noContextTakeover: deflate.clientNoContextTakeover,
                                                              maxMessageBytes: maxMessageBytes)
                serverInflater = try WebSocketMessageInflater(noContextTakeover: deflate.serverNoContextTakeover,
                                                              maxMessageBytes: maxMessageBytes)
            } catch {
                clientFailure = "cannot set up permessage-deflate: \(error)"
                serverFailure = clientFailure
            }
        }
    }

    /// Takes `bytes` sent by the client (`fromClient`) or the server and decodes what it
    /// can, at most `inflationBudget` bytes of inflated output: see `decode`. While
    /// decoding is behind, the bytes wait their turn. True when everything received was decoded.
    @discardableResult
    public mutating func receive(_ bytes: ArraySlice<UInt8>, fromClient: Bool, inflationBudget: Int = .max,
                          output: (WebSocketTapOutput) -> Void) -> Bool {
        if isBehind {
            waiting.append((fromClient, bytes))
            return false
        }
        var budget = inflationBudget
        return decode(bytes, fromClient: fromClient, budget: &budget, output: output)
    }

    /// Goes on decoding what was received and not yet decoded, in the order it came,
    /// calling `output` with each payload piece and message completed. Stops once
    /// `inflationBudget` bytes were inflated and returns false: call again to go on. True
    /// when everything received was decoded (or decoding of its side has stopped).
    mutating func decode(inflationBudget: Int, output: (WebSocketTapOutput) -> Void) -> Bool {
        var budget = inflationBudget
        if let fromClient = inflatingSide, !decode(nil, fromClient: fromClient, budget: &budget, output: output) {
            return false
        }
        while nextWaiting < waiting.count {
            let next = waiting[nextWaiting]
            waiting[nextWaiting].bytes = []
            nextWaiting += 1
            if !decode(next.bytes, fromClient: next.fromClient, budget: &budget, output: output) { return false }
        }
        waiting.removeAll(keepingCapacity: waiting.capacity <= 16)
        nextWaiting = 0
        return true
    }

    /// True while a message is part-way inflated or received bytes wait to be decoded:
    /// `decode` goes on.
    var isBehind: Bool {
        inflatingSide != nil || nextWaiting < waiting.count
    }

    /// The side whose message is part-way inflated, if any (at most one: the other side's
    /// bytes wait meanwhile).
    private var inflatingSide: Bool? {
        clientInflation != nil ? true : serverInflation != nil ? false : nil
    }

    /// Appends `bytes` (if any) to one side's decoder and drains it within `budget`,
    /// which is reduced by what was inflated. False when a message is part-way inflated.
    private mutating func decode(_ bytes: ArraySlice<UInt8>?, fromClient: Bool, budget: inout Int,
                                 output: (WebSocketTapOutput) -> Void) -> Bool {
        if fromClient {
            guard clientFailure == nil else { return true }
            if let bytes { clientDecoder.append(bytes) }
            let result = Self.drain(&clientDecoder, inflater: clientInflater, inflation: &clientInflation,
                                    fromClient: true, budget: &budget, handshake: &closeHandshake, output: output)
            clientFailure = result.failure
            return result.done
        }
        guard serverFailure == nil else { return true }
        if let bytes { serverDecoder.append(bytes) }
        let result = Self.drain(&serverDecoder, inflater: serverInflater, inflation: &serverInflation,
                                fromClient: false, budget: &budget, handshake: &closeHandshake, output: output)
        serverFailure = result.failure
        return result.done
    }

    /// True when the client (or server) is part-way through a frame or a fragmented message.
    func isInsideMessage(fromClient: Bool) -> Bool {
        fromClient ? clientDecoder.isInsideMessage : serverDecoder.isInsideMessage
    }

    /// Pulls every complete message, inflating within `budget` (reduced by what was
    /// inflated); returns whether all was
    /// decoded, and a description of the violation that stopped decoding, if any.
    private static func drain(_ decoder: inout WebSocketMessageDecoder, inflater: WebSocketMessageInflater?,
                              inflation: inout Inflation?, fromClient: Bool, budget: inout Int,
                              handshake: inout WebSocketCloseHandshake,
                              output: (WebSocketTapOutput) -> Void) -> (done: Bool, failure: String?) {
        do throws(WebSocketProtocolError) {
            while true {
                if var current = inflation, let inflater {
                    inflation = nil
                    if !(try inflate(&current, with: inflater, fromClient: fromClient, budget: &budget,
                                     output: output)) {
                        inflation = current
                        return (false, nil)
                    }
                }
                guard let message = try decoder.nextMessage() else { return (true, nil) }
                if let close = message.close {
                    handshake.closeReceived(from: fromClient ? .client : .server, close)
                }
                if message.compressed, let inflater {
                    if inflater.canInflateNextMessage {
                        inflater.begin(message)
                        inflation = Inflation(message: message)
                    } else {
                        var undecoded = record(message, fromClient: fromClient, payload: [])
                        undecoded.undecodedCompressedSize = message.payloadSize
                        output(.message(undecoded))
                    }
                    continue
                }
                var finished = record(message, fromClient: fromClient, payload: message.payload)
                if message.isCapped {
                    finished.decodingCapped = true
                    finished.capSize = UInt64(decoder.maxMessageBytes)
                    finished.wholePayloadSize = message.payloadSize
                }
                output(.message(finished))
            }
        } catch {
            return (true, "\(error) (close code \(error.closeCode)); later frames were relayed but not captured")
        }
    }

    /// Inflates `current` in steps until it ends (true, its record emitted) or `budget`
    /// is spent (false); `budget` is reduced by what was inflated. A message over the size cap ends there: it is recorded up to
    /// the cap, `decodingCapped`.
    private static func inflate(_ current: inout Inflation, with inflater: WebSocketMessageInflater, fromClient: Bool,
                                budget: inout Int,
                                output: (WebSocketTapOutput) -> Void) throws(WebSocketProtocolError) -> Bool {
        var ended = false
        var capped = false
        repeat {
            let before = current.held.count
            do throws(WebSocketProtocolError) {
                ended = try inflater.inflate(atLeast: inflationStep, into: &current.held)
            } catch {
                guard case .messageTooLarge = error else { throw error }
                capped = true
            }
            budget -= current.held.count - before
            // A streamed message's last step may inflate nothing: no piece then, the
            // encoder would store a zero-length extent.
            if current.held.count > heldPayloadLimit || (current.streamed > 0 && (ended || capped) && !current.held.isEmpty) {
                current.streamed += UInt64(current.held.count)
                output(.payloadPiece(fromClient: fromClient, bytes: current.held))
                current.held = []
            }
        } while !ended && !capped && budget > 0
        guard ended || capped else { return false }
        var finished = record(current.message, fromClient: fromClient, payload: current.held)
        if current.streamed > 0 { finished.streamedPayloadSize = current.streamed }
        finished.decodingCapped = capped || current.message.isCapped  // (a stream that ended before the cut)
        // The decoder (cut on the wire) and the inflater (cut in the output) share one cap.
        if finished.decodingCapped { finished.capSize = UInt64(inflater.maxMessageBytes) }
        output(.message(finished))
        return true
    }

    private static func record(_ message: WebSocketMessage, fromClient: Bool, payload: [UInt8]) -> WebSocketMessageRecord {
        WebSocketMessageRecord(fromClient: fromClient, opcode: opcode(message.opcode), payload: payload,
                               wireBytes: message.wireBytes, compressed: message.compressed)
    }

    private static func opcode(_ opcode: WebSocketOpcode) -> WebSocketMessageRecord.Opcode {
        switch opcode {
        case .text, .continuation: return .text  // messages never carry .continuation
        case .binary: return .binary
        case .ping: return .ping
        case .pong: return .pong
        case .close: return .close
        }
    }
}

extension WebSocketTap {
    /// A tap for the extensions the server accepted in its 101 response.
    public init(handshakeResponse: HTTPResponseHead) {
        do throws(WebSocketHandshakeError) {
            self.init(deflate: try PerMessageDeflateParameters.negotiated(responseHeaders: handshakeResponse.headers))
        } catch {
            self.init(deflate: nil, setupFailure: "the server's handshake response could not be understood: \(error)")
        }
    }
}
