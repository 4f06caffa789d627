import TaplineCapture
import TaplineFlow

/// What the client side of a recorded WebSocket does again, in order, and what each
/// step waits for: the message schedule of a WebSocket replay. Pure; built once per
/// flow from its recorded messages; immutable.
///
/// Rules:
/// - The client's data messages (text, binary) are sent in recorded order, each once
///   the server's data messages recorded before it have arrived
///   (`awaitedServerMessages`): a server that greets first is answered after its
///   greeting, an echo after each echo.
/// - Pings and pongs are not replayed (the replaying side answers the server's pings
///   itself); a fragmented message is sent as one whole message (the capture keeps
///   messages, not their framing).
/// - The close: the client's recorded close frame (code and reason), after the server
///   messages recorded before it; when the server closed first, the client's close
///   answers the server's. Without a recorded client close, the connection is closed
///   once every step is done and the recorded server messages have arrived.
/// - `expectedServerMessages`: the server's recorded data messages, all awaited
///   before the replay closes.
public struct WebSocketReplayScript: Sendable, Equatable {
    public let steps: [WebSocketReplayStep]
    public let expectedServerMessages: Int

    /// - Parameter opened: when the WebSocket opened (the 101's time), for the offsets.
    public init(messages: [CapturedWebSocketMessage], opened: Timestamp) {
        var steps: [WebSocketReplayStep] = []
        var serverMessages = 0
        var serverClosed = false
        for (position, message) in messages.enumerated() {
            let offset = max(0, message.time.microseconds - opened.microseconds)
            switch (message.fromClient, message.opcode) {
            case (false, "text"), (false, "binary"):
                serverMessages += 1
            case (false, "close"):
                serverClosed = true
            case (true, "text"), (true, "binary"):
                steps.append(WebSocketReplayStep(action: .send(position: position), awaitedServerMessages: serverMessages,
                                                 offsetMicroseconds: offset))
            case (true, "close"):
                let code = message.closeCode.flatMap { UInt16(exactly: $0) }
                steps.append(WebSocketReplayStep(action: .close(code: code, reason: message.closeReason ?? "",
                                                                answering: serverClosed),
                                                 awaitedServerMessages: serverMessages, offsetMicroseconds: offset))
            default:
                continue // pings, pongs, unknown opcodes
            }
            if case .close = steps.last?.action { break }
        }
        self.steps = steps
        expectedServerMessages = messages.filter { !$0.fromClient && ($0.opcode == "text" || $0.opcode == "binary") }.count
    }
}
