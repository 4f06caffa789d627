import TaplineFlow
import TaplineHTTPClient
import TaplineNet

/// What every piece of a running replay shares: its loop, where legs come from, where
/// the replayed flows are recorded, and the id counters of the new session.
///
/// Invariant: flow and connection ids are handed out once each, from 1, in the order
/// flows are dispatched. The sink is flushed once per loop iteration that recorded
/// something (`recorded`).
///
/// Thread ownership: confined to `loop`; owned by the `ReplayRunner`.
final class ReplayContext {
    let loop: EventLoop
    let source: any UpstreamLegSource
    /// Where the replayed flows are recorded: the collector, which passes the events on
    /// to the replay session and assembles each flow for its comparison.
    let sink: any FlowEventSink
    let collector: ReplayedFlowCollector
    /// A response that has not started this long after its request was sent fails as `upstream-timeout`.
    let responseTimeoutMilliseconds: Int
    /// `--speed` under `--pace recorded` (a WebSocket's messages go at their recorded
    /// offsets); nil under `--pace none` (each waits for the server message before it).
    let recordedPaceSpeed: Double?
    private var lastFlowID: UInt64 = 0
    private var lastConnectionID: UInt64 = 0
    private var flushScheduled = false

    init(loop: EventLoop, source: any UpstreamLegSource, collector: ReplayedFlowCollector, responseTimeoutMilliseconds: Int,
         recordedPaceSpeed: Double?) {
        self.recordedPaceSpeed = recordedPaceSpeed
        self.loop = loop
        self.source = source
        self.sink = collector
        self.collector = collector
        self.responseTimeoutMilliseconds = responseTimeoutMilliseconds
    }

    func nextFlowID() -> FlowID {
        lastFlowID += 1
        return FlowID(lastFlowID)
    }

    func nextConnectionID() -> ConnectionID {
        lastConnectionID += 1
        return ConnectionID(lastConnectionID)
    }

    /// Records `event` now; the sink passes it on at the end of this loop iteration.
    func record(_ event: FlowEvent) {
        sink.record(event)
        recorded()
    }

    /// Something was recorded into the sink: flush it once this iteration is over.
    func recorded() {
        guard !flushScheduled else { return }
        flushScheduled = true
        loop.scheduleTimer(milliseconds: 0) { [self] in
            flushScheduled = false
            sink.flush()
        }
    }
}
