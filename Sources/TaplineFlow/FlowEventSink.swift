/// The front of a `FlowRecorder` that one event loop writes to: it takes the
/// loop's events as they happen and passes them on when the loop calls `flush`
/// (once per loop iteration, so the recorder's lock is taken once, not per event).
///
/// Thread ownership: confined to the event loop that asked for it
/// (`FlowRecorder.makeSink()`); never shared between threads.
public protocol FlowEventSink: AnyObject {
    /// Takes one event. Events of a flow arrive in order.
    func record(_ event: FlowEvent)
    /// Takes a chunk of a flow's request (`isRequest`) or response body, which arrived
    /// at `time`; the same as recording `.requestBody`/`.responseBody`, but a sink that
    /// stores the bytes itself can copy them from `bytes` without an array being made
    /// for the event (and can use `time`, which those events do not carry).
    func recordBody(flow: FlowID, isRequest: Bool, bytes: ArraySlice<UInt8>, time: Timestamp)
    /// Bytes held since the last `flush` (body and message payloads, encoded
    /// lines): the loop flushes early when this grows large.
    var bufferedBytes: Int { get }
    /// Passes on everything recorded since the last flush.
    func flush()
}

extension FlowEventSink {
    public func recordBody(flow: FlowID, isRequest: Bool, bytes: ArraySlice<UInt8>, time: Timestamp) {
        record(isRequest ? .requestBody(flow: flow, bytes: Array(bytes)) : .responseBody(flow: flow, bytes: Array(bytes)))
    }
}
