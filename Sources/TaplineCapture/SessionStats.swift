/// Totals the writer records in session.json when it closes a session, so a
/// listing need not scan events.jsonl.
public struct SessionStats: Sendable, Equatable {
    public var flows: UInt64
    public var connections: UInt64
    /// Lines written to events.jsonl.
    public var events: UInt64
    /// Body bytes stored in the segment files.
    public var bodyBytesStored: UInt64

    public init(flows: UInt64 = 0, connections: UInt64 = 0, events: UInt64 = 0, bodyBytesStored: UInt64 = 0) {
        self.flows = flows
        self.connections = connections
        self.events = events
        self.bodyBytesStored = bodyBytesStored
    }

    /// Adds another set of totals (the writer sums what each batch brings).
    mutating func add(_ other: SessionStats) {
        flows += other.flows
        connections += other.connections
        events += other.events
        bodyBytesStored += other.bodyBytesStored
    }
}
