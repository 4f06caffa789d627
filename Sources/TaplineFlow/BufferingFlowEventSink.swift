/// The default `FlowEventSink`: collects events and hands them to the recorder
/// with `record(contentsOf:)` at each flush.
///
/// Thread ownership: confined to one event loop (see `FlowEventSink`).
public final class BufferingFlowEventSink: FlowEventSink {
    private let recorder: any FlowRecorder
    private var events: [FlowEvent] = []
    public private(set) var bufferedBytes = 0

    public init(recorder: any FlowRecorder) {
        self.recorder = recorder
    }

    public func record(_ event: FlowEvent) {
        events.append(event)
        bufferedBytes += event.bodyByteCount
    }

    public func flush() {
        bufferedBytes = 0
        guard !events.isEmpty else { return }
        recorder.record(contentsOf: events)
        events.removeAll(keepingCapacity: true)
    }
}
