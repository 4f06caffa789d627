/// What a mocked WebSocket's server said that has not gone into its outbox yet, in the
/// order it was said (`MockWebSocketServer`): a recorded message waits as its position
/// in the flow's `webSocketMessages` (its payload is read from the capture only when the
/// outbox has room), a frame made here (a pong, the close) as its bytes.
///
/// A FIFO queue: `append` and `popFirst` are O(1) amortized (taken entries are dropped
/// from the front once they are half the storage). At most one pong waits: a client
/// that pings faster than it reads gets its latest ping answered (`appendPong`, as RFC
/// 6455 section 5.5.3 allows), so a ping flood behind a full outbox holds one frame, not
/// one per ping.
///
/// Thread ownership: a value owned by its `MockWebSocketServer`, on that server's loop.
struct MockWebSocketBacklog {
    enum Entry: Equatable {
        /// The recorded server message at this position of the flow's `webSocketMessages`.
        case recordedMessage(Int)
        /// A frame ready to send.
        case frame([UInt8])
    }

    private var entries: [Entry] = []
    /// Entries before it were taken.
    private var head = 0
    /// Where in `entries` the pong waiting is, if one is.
    private var pongAt: Int?

    var isEmpty: Bool { head == entries.count }

    /// Entries waiting.
    var count: Int { entries.count - head }

    mutating func append(_ entry: Entry) {
        entries.append(entry)
    }

    /// Queues a pong frame; when a pong is waiting already, this one (the answer to the
    /// latest ping) takes its place instead.
    mutating func appendPong(_ frame: [UInt8]) {
        if let pongAt {
            entries[pongAt] = .frame(frame)
        } else {
            pongAt = entries.count
            entries.append(.frame(frame))
        }
    }

    /// The entry said first of those waiting, taken off the queue.
    mutating func popFirst() -> Entry? {
        guard head < entries.count else { return nil }
        let entry = entries[head]
        if pongAt == head { pongAt = nil }
        head += 1
        if head == entries.count {
            entries.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 64, head * 2 >= entries.count {
            entries.removeFirst(head)
            pongAt = pongAt.map { $0 - head }
            head = 0
        }
        return entry
    }

    mutating func removeAll() {
        entries = []
        head = 0
        pongAt = nil
    }
}
