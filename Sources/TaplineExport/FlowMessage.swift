import TaplineCapture
import TaplineFlow

/// One message of a message-based flow (WebSocket now, gRPC later) as the
/// exporters see it: direction, type, payload and when it passed.
///
/// `captured(_:)` reads them from a flow's `webSocketMessages` (payloads up to
/// 16 MiB each; a damaged segment yields an empty payload rather than failing
/// the export). A value type.
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

    /// The messages the capture recorded for `flow`, in order.
    @Sendable public static func captured(_ flow: CapturedFlow) -> [FlowMessage] {
        flow.webSocketMessages.map { message in
            FlowMessage(fromClient: message.fromClient, type: message.opcode,
                        payload: (try? message.payload(sessionDirectory: flow.requestBody.sessionDirectory, limit: 16 << 20)) ?? [],
                        time: message.time)
        }
    }

    /// The payload as text for `text` messages (and any valid UTF-8), else nil.
    public var text: String? {
        String(validating: payload, as: UTF8.self)
    }
}
