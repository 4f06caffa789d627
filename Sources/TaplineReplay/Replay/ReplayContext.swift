import TaplineFlow
import TaplineHTTPClient
import TaplineNet

/// What every piece of a running replay shares: its loop, where legs come from, where
/// the replayed flows are recorded, and the id counters of the new session.
///
/// Invariant: flow and connection ids are handed out once each, from 1, in the order
/// flows are dispatched (`ReplaySessionIDs`, shared by the contexts of every loop of
/// one replay, `ReplayRunnerGroup`). The sink is flushed once per loop iteration that recorded
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
    /// Flows sent otherwise than recorded, found while sending (`ReplayNotes`), in order.
    private(set) var notes: [String] = []
    /// The replay session's writer: its backlog bounds what flows in flight may add (`isRecorderBackedUp`).
    private let recorder: any FlowRecorder
    /// What waits for the recorder to drain, run together on the loop when it did.
    private var drainWaiters: [() -> Void] = []
    private let ids: ReplaySessionIDs
    private var flushScheduled = false

    init(loop: EventLoop, source: any UpstreamLegSource, recorder: any FlowRecorder, collector: ReplayedFlowCollector,
         responseTimeoutMilliseconds: Int, recordedPaceSpeed: Double?, ids: ReplaySessionIDs) {
        self.recorder = recorder
        self.ids = ids
        self.recordedPaceSpeed = recordedPaceSpeed
        self.loop = loop
        self.source = source
        self.sink = collector
        self.collector = collector
        self.responseTimeoutMilliseconds = responseTimeoutMilliseconds
    }

    /// The writer holds more than its high watermark: a flow in flight reads no more of
    /// its response and sends no more of its request body (each chunk of which is also
    /// recorded) until it drained (`whenRecorderDrained`), so a body of any size never
    /// piles up in the writer's queue faster than the disk takes it.
    var isRecorderBackedUp: Bool { recorder.isBackedUp }

    /// Runs `action` on the loop once the recorder's backlog fell to its low watermark.
    func whenRecorderDrained(_ action: @escaping () -> Void) {
        drainWaiters.append(action)
        guard drainWaiters.count == 1 else { return }
        let bound = LoopBound(self, loop: loop)
        recorder.whenDrained {
            bound.loop.execute {
                let waiters = bound.value.drainWaiters
                bound.value.drainWaiters = []
                for waiter in waiters { waiter() }
            }
        }
    }

    func nextFlowID() -> FlowID { ids.nextFlowID() }

    func nextConnectionID() -> ConnectionID { ids.nextConnectionID() }

    /// A flow goes otherwise than recorded: `text` says how and why (`ReplayNotes`).
    func note(_ text: String) {
        notes.append(text)
    }

    /// Records `event` now; the sink passes it on at the end of this loop iteration.
    func record(_ event: FlowEvent) {
        sink.record(event)
        recorded()
    }

    /// Records `event` of the replayed flow `entry` tracks (from `collector.expect`), as `record(_:)`.
    func record(_ event: FlowEvent, into entry: ReplayedFlowEntry) {
        collector.record(event, into: entry)
        recorded()
    }

    /// Sink bytes past which `recorded` passes them on at once rather than at the end of
    /// the iteration: a request body sent while the leg takes it would otherwise pile up
    /// in the sink, unseen by the writer's backlog (`isRecorderBackedUp`), in one iteration.
    static let flushEarlyBytes = 1 << 20

    /// Something was recorded into the sink: flush it once this iteration is over (at once
    /// when it holds `flushEarlyBytes`).
    func recorded() {
        if collector.bufferedBytes >= Self.flushEarlyBytes { collector.flush() }  // the sink, without a witness call
        guard !flushScheduled else { return }
        flushScheduled = true
        loop.scheduleTimer(milliseconds: 0) { [self] in
            flushScheduled = false
            collector.flush()
        }
    }
}
