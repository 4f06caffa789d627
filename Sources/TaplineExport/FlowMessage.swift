import TaplineFlow

/// One message of a message-based flow (WebSocket now, gRPC later) as the
/// exporters see it: direction, type, payload and when it passed.
///
/// The capture reader will hand these over once it records WebSocket messages;
/// until then exporters are given none (`FlowMessage.none`). A value type.
public struct FlowMessage: Sendable, Equatable {
    /// True when the client sent it.
    public var fromClient: Bool
    /// `text`, `binary`, `ping`, `pong`, `close` (WebSocket); `message` (gRPC).
    public var type: String
    public var payload: [UInt8]
    public var time: Timestamp?

    public init(fromClient: Bool, type: String, payload: [UInt8], time: Timestamp?) {
        self.fromClient = fromClient
        self.type = type
        self.payload = payload
        self.time = time
    }

    /// A source of messages for flows: none (the reader does not expose them yet).
    public static let none: @Sendable (FlowID) -> [FlowMessage] = { _ in [] }

    /// The payload as text for `text` messages (and any valid UTF-8), else nil.
    public var text: String? {
        String(validating: payload, as: UTF8.self)
    }
}
