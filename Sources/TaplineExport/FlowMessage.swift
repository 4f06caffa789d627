import TaplineCapture
import TaplineFlow
import TaplineWire

/// One message of a message-based flow (WebSocket now, gRPC later) as the
/// exporters see it: direction, type, payload and when it passed.
///
/// `captured(_:)` reads them from a flow's `webSocketMessages` (payloads up to
/// `exportLimit` each; a damaged segment yields an empty payload rather than failing
/// the export). Invariant: `truncation` is set exactly when `payload` is not the
/// whole message, whose size is then `size`. A value type.
public struct FlowMessage: Sendable, Equatable {
    /// True when the client sent it.
    public var fromClient: Bool
    /// `text`, `binary`, `ping`, `pong`, `close` (WebSocket); `message` (gRPC).
    public var type: String
    public var payload: [UInt8]
    public var time: Timestamp?
    /// Why `payload` is only part of the message (or empty), when it is.
    public var truncation: FlowMessageTruncation?
    /// The whole payload's size (for `undecoded`, its compressed size).
    public var size: UInt64

    /// Most payload bytes exported per message.
    public static let exportLimit = 16 << 20

    public init(fromClient: Bool, type: String, payload: [UInt8], time: Timestamp?,
                truncation: FlowMessageTruncation? = nil, size: UInt64? = nil) {
        self.fromClient = fromClient
        self.type = type
        self.payload = payload
        self.time = time
        self.truncation = truncation
        self.size = size ?? UInt64(payload.count)
    }

    /// The messages the capture recorded for `flow`, in order.
    @Sendable public static func captured(_ flow: CapturedFlow) -> [FlowMessage] {
        flow.webSocketMessages.map { message in
            let read = try? message.payload(sessionDirectory: flow.requestBody.sessionDirectory, limit: exportLimit)
            let cutHere: FlowMessageTruncation? = read.map { UInt64($0.count) < message.storedBytes } == true ? .exportLimit : nil
            return FlowMessage(fromClient: message.fromClient, type: message.opcode, payload: read ?? [], time: message.time,
                               truncation: FlowMessageTruncation(captured: message) ?? cutHere, size: message.size)
        }
    }

    /// The marker exporters write next to a cut message's data (nil for a whole one):
    /// `{"truncated": true, "size": N, "reason": "capped"}`.
    var truncationMarker: [JSONMember]? {
        guard let truncation else { return nil }
        return [JSONMember("truncated", .bool(true)), JSONMember("size", .integer(size)),
                JSONMember("reason", .string(truncation.rawValue))]
    }

    /// The payload as text for `text` messages (and any valid UTF-8), else nil.
    public var text: String? {
        String(validating: payload, as: UTF8.self)
    }
}
