/// One thing the client side of a replayed WebSocket does, and when: a recorded
/// client message sent again, or the close. A value type (`WebSocketReplayScript`).
public struct WebSocketReplayStep: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        /// Sends the client message at `position` in the recorded flow's `webSocketMessages`.
        case send(position: Int)
        /// Sends a close frame (code and reason as recorded; no code: an empty close payload).
        /// `answering`: the server's close came first in the recording, so this waits for it too.
        case close(code: UInt16?, reason: String, answering: Bool)
    }

    public var action: Action
    /// How many of the server's data messages (text and binary, in order) must have
    /// arrived before the step: those the recording has before it.
    public var awaitedServerMessages: Int
    /// The recorded time from the WebSocket's opening (its 101) to the step, for `--pace recorded`.
    public var offsetMicroseconds: Int64

    public init(action: Action, awaitedServerMessages: Int, offsetMicroseconds: Int64) {
        self.action = action
        self.awaitedServerMessages = awaitedServerMessages
        self.offsetMicroseconds = offsetMicroseconds
    }
}
