/// Sends each event to several sinks in order (the sinks of a `FlowRecorderFanOut`).
///
/// Thread ownership: confined to one event loop, like the sinks it holds.
final class FlowEventSinkFanOut: FlowEventSink {
    private let sinks: [any FlowEventSink]

    init(_ sinks: [any FlowEventSink]) {
        self.sinks = sinks
    }

    func record(_ event: FlowEvent) {
        for sink in sinks { sink.record(event) }
    }

    func recordBody(flow: FlowID, isRequest: Bool, bytes: ArraySlice<UInt8>, time: Timestamp) {
        for sink in sinks { sink.recordBody(flow: flow, isRequest: isRequest, bytes: bytes, time: time) }
    }

    var bufferedBytes: Int { sinks.reduce(0) { max($0, $1.bufferedBytes) } }

    func flush() {
        for sink in sinks { sink.flush() }
    }
}
