/// Something that consumes the proxy's flow events: the capture writer, the
/// live per-flow log line, or several of them (`FlowRecorderFanOut`).
///
/// Thread ownership: `record` is called from any event-loop thread and must
/// return quickly without blocking on I/O. Implementations are thread-safe.
/// Each event loop records through its own `makeSink()`, which may do per-loop
/// work (the capture writer encodes there) before handing over at `flush`.
///
/// Backpressure: while `isBackedUp` is true the proxy stops reading from
/// sockets that would produce more events (captured data is never dropped);
/// the recorder calls every callback given to `whenDrained` once its backlog
/// has fallen below its low watermark.
public protocol FlowRecorder: AnyObject, Sendable {
    func record(_ event: FlowEvent)
    /// Records several events in order, as if one by one (an event loop hands
    /// over what one iteration produced in one call, to take a lock once).
    func record(contentsOf events: [FlowEvent])
    var isBackedUp: Bool { get }
    /// A front for one event loop, confined to it (see `FlowEventSink`).
    func makeSink() -> any FlowEventSink
    /// Runs `callback` once (on any thread) when the backlog has drained; at
    /// once if it is not backed up now.
    func whenDrained(_ callback: @escaping @Sendable () -> Void)
}

extension FlowRecorder {
    public func record(contentsOf events: [FlowEvent]) {
        for event in events { record(event) }
    }

    public var isBackedUp: Bool { false }
    public func makeSink() -> any FlowEventSink { BufferingFlowEventSink(recorder: self) }
    public func whenDrained(_ callback: @escaping @Sendable () -> Void) { callback() }
}

/// Sends each event to several recorders in order; backed up if any is.
public final class FlowRecorderFanOut: FlowRecorder {
    private let recorders: [any FlowRecorder]

    public init(_ recorders: [any FlowRecorder]) {
        self.recorders = recorders
    }

    public func record(_ event: FlowEvent) {
        for recorder in recorders { recorder.record(event) }
    }

    public func record(contentsOf events: [FlowEvent]) {
        for recorder in recorders { recorder.record(contentsOf: events) }
    }

    public var isBackedUp: Bool { recorders.contains { $0.isBackedUp } }

    public func makeSink() -> any FlowEventSink { FlowEventSinkFanOut(recorders.map { $0.makeSink() }) }

    public func whenDrained(_ callback: @escaping @Sendable () -> Void) {
        guard let backedUp = recorders.first(where: { $0.isBackedUp }) else {
            callback()
            return
        }
        backedUp.whenDrained { [self] in self.whenDrained(callback) }
    }
}
