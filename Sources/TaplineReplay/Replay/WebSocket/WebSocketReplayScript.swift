import TaplineCapture
import TaplineFlow
import TaplineWire

/// What one side of a recorded WebSocket does again, in order, and what each step
/// waits for: the one message schedule of both directions. `tapline replay` plays the
/// client's side (`playing: .client`, its peer is the live server); `tapline mock`
/// plays the server's (`playing: .server`, its peer is the live client). Pure; built
/// once per flow from its recorded messages; immutable.
///
/// Rules (the played side's messages are the "own" ones, the other side's the peer's):
/// - Own data messages (text, binary) are sent in recorded order, each once the peer's
///   data messages recorded before it have arrived (`awaitedPeerMessages`): a server
///   that greets first is answered after its greeting, an echo after each message.
/// - Pings and pongs are not played (the playing side answers the peer's pings
///   itself); a fragmented message is sent as one whole message (the capture keeps
///   messages, not their framing).
/// - The close: the own recorded close frame (code and reason), after the peer
///   messages recorded before it; when the peer closed first, it answers the peer's
///   (`answering`). Without a recorded own close, the player ends once every step is
///   done and the recorded peer messages have arrived.
/// - `expectedPeerMessages`: the peer's recorded data messages, all awaited before
///   the player ends.
/// - Times: `offsetMicroseconds` from the opening (for `replay --pace recorded`),
///   `gapMicroseconds` from the latest data or close message of either side recorded
///   before it (the opening for the first), which is how long the recorded side took
///   to say it: an answer's think time, or an unsolicited message's delay (`mock`).
public struct WebSocketReplayScript: Sendable, Equatable {
    public let steps: [WebSocketReplayStep]
    public let expectedPeerMessages: Int

    /// - Parameters:
    ///   - opened: when the WebSocket opened (the 101's time), for the offsets.
    ///   - side: the side whose messages become the steps.
    public init(messages: [CapturedWebSocketMessage], opened: Timestamp, playing side: WebSocketRole = .client) {
        let ownIsClient = side == .client
        var steps: [WebSocketReplayStep] = []
        var peerMessages = 0
        var peerClosed = false
        var previous = opened.microseconds
        for (position, message) in messages.enumerated() {
            let time = max(opened.microseconds, message.time.microseconds)
            let offset = time - opened.microseconds
            let gap = max(0, time - previous)
            switch (message.fromClient == ownIsClient, message.opcode) {
            case (false, "text"), (false, "binary"):
                peerMessages += 1
            case (false, "close"):
                peerClosed = true
            case (true, "text"), (true, "binary"):
                steps.append(WebSocketReplayStep(action: .send(position: position), awaitedPeerMessages: peerMessages,
                                                 offsetMicroseconds: offset, gapMicroseconds: gap))
            case (true, "close"):
                let code = message.closeCode.flatMap { UInt16(exactly: $0) }
                steps.append(WebSocketReplayStep(action: .close(code: code, reason: message.closeReason ?? "",
                                                                answering: peerClosed),
                                                 awaitedPeerMessages: peerMessages, offsetMicroseconds: offset,
                                                 gapMicroseconds: gap))
            default:
                continue // pings, pongs, unknown opcodes
            }
            previous = time
            if case .close = steps.last?.action { break }
        }
        self.steps = steps
        expectedPeerMessages = messages.filter {
            $0.fromClient != ownIsClient && ($0.opcode == "text" || $0.opcode == "binary")
        }.count
    }
}
