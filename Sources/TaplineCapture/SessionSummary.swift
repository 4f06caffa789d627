import TaplineFlow

/// One line of a session listing (`tapline sessions`): enough to pick a
/// session without reading its events.
public struct SessionSummary: Sendable, Equatable {
    public var id: String
    public var directory: String
    public var started: Timestamp
    /// nil when the session was not closed (proxy killed, or still running).
    public var ended: Timestamp?
    public var flows: UInt64
    /// Bytes the session takes on disk (session.json, events.jsonl and body segments).
    public var bytes: UInt64
    public var tapline: String
    /// The command `tapline run` captured (session.json's `command`); nil otherwise.
    public var command: [String]? = nil
    /// How its proxy was started (session.json's `proxy`: mode, `listen`, `socks5`,
    /// `transparent`, ...); empty for an import.
    public var proxy: [String: String] = [:]
    /// Not closed, and its proxy is still writing it (`SessionWriterLock`).
    public var isBeingWritten = false

    public var isClosed: Bool { ended != nil }
}
