import TaplineCompression
import TaplineFlow
import TaplineWire

/// Decodes a copy of both directions of a relayed WebSocket connection into the
/// messages the capture records: frames joined, permessage-deflate undone, close
/// frames tracked in a `WebSocketCloseHandshake`. Pure protocol logic: bytes in,
/// records out; the relay does the I/O.
///
/// A direction that breaks the protocol stops being decoded (its failure is kept
/// for the flow's end); its bytes are still relayed unchanged by the relay, and
/// the receiving endpoint enforces the RFC itself.
///
/// Thread ownership: confined to its relay's event loop.
struct WebSocketTap {
    private var clientDecoder: WebSocketMessageDecoder
    private var serverDecoder: WebSocketMessageDecoder
    private var clientInflater: WebSocketMessageInflater?
    private var serverInflater: WebSocketMessageInflater?
    private(set) var closeHandshake = WebSocketCloseHandshake()
    /// Why decoding the client's / server's bytes stopped, if it did.
    private(set) var clientFailure: String?
    private(set) var serverFailure: String?

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

    /// Decodes `bytes` sent by the client (`fromClient`) or the server and calls
    /// `emit` with each message completed by them, in order.
    mutating func receive(_ bytes: ArraySlice<UInt8>, fromClient: Bool, emit: (WebSocketMessageRecord) -> Void) {
        if fromClient {
            guard clientFailure == nil else { return }
            clientDecoder.append(bytes)
            clientFailure = Self.drain(&clientDecoder, inflater: clientInflater, fromClient: true,
                                       handshake: &closeHandshake, emit: emit)
        } else {
            guard serverFailure == nil else { return }
            serverDecoder.append(bytes)
            serverFailure = Self.drain(&serverDecoder, inflater: serverInflater, fromClient: false,
                                       handshake: &closeHandshake, emit: emit)
        }
    }

    /// True when the client (or server) is part-way through a frame or a fragmented message.
    func isInsideMessage(fromClient: Bool) -> Bool {
        fromClient ? clientDecoder.isInsideMessage : serverDecoder.isInsideMessage
    }

    /// Pulls every complete message; returns a description of the violation that stopped it, if any.
    private static func drain(_ decoder: inout WebSocketMessageDecoder, inflater: WebSocketMessageInflater?,
                              fromClient: Bool, handshake: inout WebSocketCloseHandshake,
                              emit: (WebSocketMessageRecord) -> Void) -> String? {
        do throws(WebSocketProtocolError) {
            while let message = try decoder.nextMessage() {
                let payload = try inflater?.payload(of: message) ?? message.payload
                if let close = message.close {
                    handshake.closeReceived(from: fromClient ? .client : .server, close)
                }
                emit(WebSocketMessageRecord(fromClient: fromClient, opcode: Self.opcode(message.opcode), payload: payload,
                                            wireBytes: message.wireBytes, compressed: message.compressed))
            }
            return nil
        } catch {
            return "\(error) (close code \(error.closeCode)); later frames were relayed but not captured"
        }
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
    init(handshakeResponse: HTTPResponseHead) {
        do throws(WebSocketHandshakeError) {
            self.init(deflate: try PerMessageDeflateParameters.negotiated(responseHeaders: handshakeResponse.headers))
        } catch {
            self.init(deflate: nil, setupFailure: "the server's handshake response could not be understood: \(error)")
        }
    }
}
