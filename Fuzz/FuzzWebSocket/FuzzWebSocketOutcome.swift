import TaplineWire

/// Everything the message decoder said about one input, comparable across splits.
struct FuzzWebSocketOutcome: Equatable, CustomStringConvertible {
    var messages: [WebSocketMessage] = []
    var error: WebSocketProtocolError?

    var description: String { "\(messages.count) messages, error \(String(describing: error))" }

    static func decode(_ chunks: [ArraySlice<UInt8>], role: WebSocketRole, compression: Bool,
                       maxMessageBytes: Int) -> FuzzWebSocketOutcome {
        var decoder = WebSocketMessageDecoder(role: role, compression: compression, maxMessageBytes: maxMessageBytes)
        var outcome = FuzzWebSocketOutcome()
        for chunk in chunks {
            decoder.append(chunk)
            do {
                while let message = try decoder.nextMessage() {
                    if message.opcode == .continuation { fatalError("a message with the continuation opcode") }
                    if (message.opcode == .close) != (message.close != nil) { fatalError("close payload mismatch") }
                    outcome.messages.append(message)
                }
            } catch {
                outcome.error = error
                return outcome
            }
        }
        return outcome
    }
}
