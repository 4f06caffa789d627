/// How one WebSocket message differs: messages are numbered per direction (the
/// client's third message is `fromClient`, `index` 2), so timing that interleaves
/// the two directions differently is not a difference. A value type.
public struct WebSocketMessageDifference: Sendable, Equatable {
    public enum Change: Sendable, Equatable {
        /// Only A has a message at this position (its type and size).
        case missing(type: String, size: UInt64)
        /// Only B has a message at this position.
        case extra(type: String, size: UInt64)
        /// The opcodes differ (`text` -> `binary`, or a close code/reason changed: `close 1000` -> `close 1011`).
        case type(a: String, b: String)
        /// Same type, different payload.
        case payload(BodyDifference)
    }

    public var fromClient: Bool
    /// 0-based position among the messages of that direction.
    public var index: Int
    public var change: Change

    public init(fromClient: Bool, index: Int, change: Change) {
        self.fromClient = fromClient
        self.index = index
        self.change = change
    }
}
