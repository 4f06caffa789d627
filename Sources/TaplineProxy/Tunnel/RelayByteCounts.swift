import TaplineFlow
import TaplineHTTPClient

/// Bytes relayed each way on a relayed flow, and the flow's end event: shared by
/// `TunnelRelay` and `WebSocketRelay`. A value owned by its relay (one loop thread).
struct RelayByteCounts {
    private(set) var fromClient: UInt64 = 0
    private(set) var fromUpstream: UInt64 = 0

    /// Counts `count` relayed bytes; the first upstream byte sets the flow's `firstResponseByte`.
    mutating func add(_ count: Int, fromClient isClient: Bool, timings: FlowTimingsBox) {
        if isClient {
            fromClient += UInt64(count)
        } else {
            if fromUpstream == 0, timings.value.firstResponseByte == nil { timings.value.firstResponseByte = .now() }
            fromUpstream += UInt64(count)
        }
    }

    /// The flow's `flowEnded` event, with `done` set to now.
    func endEvent(flow: FlowID, timings: FlowTimingsBox, error: FlowError?) -> FlowEvent {
        let now = Timestamp.now()
        timings.value.done = now
        return .flowEnded(flow: flow, timings: timings.value, bytesFromClient: fromClient,
                          bytesFromServer: fromUpstream, error: error, time: now)
    }
}
