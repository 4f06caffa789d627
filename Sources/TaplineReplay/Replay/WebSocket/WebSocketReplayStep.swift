/// One thing the played side of a recorded WebSocket does, and when: a recorded
/// message sent again, or the close. A value type (`WebSocketReplayScript`).
public struct WebSocketReplayStep: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        /// Sends the message at `position` in the recorded flow's `webSocketMessages`.
        case send(position: Int)
        /// Sends a close frame (code and reason as recorded; no code: an empty close payload).
        /// `answering`: the peer's close came first in the recording, so this waits for it too.
        case close(code: UInt16?, reason: String, answering: Bool)
    }

    public var action: Action
    /// How many of the peer's data messages (text and binary, in order) must have
    /// arrived before the step: those the recording has before it.
    public var awaitedPeerMessages: Int
    /// The recorded time from the WebSocket's opening (its 101) to the step, for `--pace recorded`.
    public var offsetMicroseconds: Int64
    /// The recorded time from the message before it (either side's) to the step.
    public var gapMicroseconds: Int64

    public init(action: Action, awaitedPeerMessages: Int, offsetMicroseconds: Int64, gapMicroseconds: Int64 = 0) {
        self.action = action
        self.awaitedPeerMessages = awaitedPeerMessages
        self.offsetMicroseconds = offsetMicroseconds
        self.gapMicroseconds = gapMicroseconds
    }
}
