import TaplineCapture
import TaplineFlow
import TaplineHTTPClient
import TaplineNet
import TaplineWire

/// Runs a `ReplayPlan`, or the share of its recorded connections `connections` names
/// (`ReplayRunnerGroup` gives each loop one), on one event loop: the `ReplayScheduler`
/// says what to send when, a `ReplayConnection` per recorded connection and round sends it over legs
/// from a `PooledUpstreamLegSource` (the proxy's connector, TLS verification, pool
/// and legs), and every replayed flow is recorded through `recorder` as the proxy
/// records its flows.
///
/// Time comes from the loop: the scheduler is asked at the monotonic clock's now, and
/// a `wait` becomes one loop timer. While `recorder` is backed up no new flow is sent
/// (flows in flight go on); sending resumes once it has drained.
///
/// Each flow is compared with its source as it ends (`ReplayEvaluation`, fed by the
/// context's `ReplayedFlowCollector`), so the replay session is never read back.
///
/// Memory: besides the plan (the selected flows' metadata) and the evaluation's
/// outcomes, per flow in flight one body chunk (`ReplayExchange.bodyChunkSize`), one
/// source chunk its response is matched against, and the leg's buffers; response
/// bytes go straight to the recorder, whose backlog is bounded by its high watermark.
///
/// Thread ownership: created anywhere, then confined to `loop` from `start` on;
/// `onProgress` and the completion run there.
final class ReplayRunner {
    /// The replay of one recorded connection in one round.
    private struct ConnectionKey: Hashable {
        let round: Int
        let connection: Int
    }

    private let plan: ReplayPlan
    /// This runner's recorded connections (`ReplayPlan.connections`, its share).
    private let share: [[ReplayScheduledFlow]]
    private let pacing: ReplayPacing
    /// Reads the items ahead on a thread of its own, under `--pace none` without `--rate`
    /// for a plan read from a session; from `start` until `finish`.
    private var readAhead: ReplayItemReadAhead?
    private var scheduler: ReplayScheduler
    private let recorder: any FlowRecorder
    private let onProgress: (ReplayProgress) -> Void
    private var context: ReplayContext?
    private let makeContext: () -> ReplayContext
    private var connections: [ConnectionKey: ReplayConnection] = [:]
    private var timer: LoopTimer?
    private var driving = false
    private var driveAgain = false
    private var waitingForDrain = false
    private var completion: (() -> Void)?
    /// Items found unsendable when their turn came (`ReplayPlan.item` threw: they could
    /// not be read again from the source session, or their bodies are why they are
    /// skipped), each once whatever the rounds (`--repeat`): a flow is skipped once.
    private var unreadable: [ReplaySkippedFlow] = []
    private var unreadableIDs = Set<FlowID>()
    public private(set) var progress: ReplayProgress
    /// Flows sent otherwise than recorded, found while sending (an RFC 8441 WebSocket whose
    /// server does not take it over HTTP/2); read on the loop once the replay finished.
    public var notes: [String] { context?.notes ?? [] }
    /// The comparisons of the flows ended so far.
    private var evaluation: ReplayEvaluation

    /// - Parameters:
    ///   - connections: the indices of `plan.connections` this runner replays (nil: all of them).
    ///   - connector: the upstream connector (its loop is the loop the replay runs on).
    ///   - recorder: records the replay session, in `sessionDirectory`.
    ///   - diff: the rules each replayed flow is compared with its source by.
    ///   - keepsEqualOutcomes: keep an outcome for every equal flow (a report lists them), not only count them.
    ///   - responseTimeoutMilliseconds: how long a sent request waits for its response to start.
    ///   - ids: the replay session's ids, shared by the runners of one replay.
    init(plan: ReplayPlan, connections: [Int]?, pacing: ReplayPacing, connector: UpstreamConnector,
         recorder: any FlowRecorder, sessionDirectory: String, diff: SessionDiff, keepsEqualOutcomes: Bool,
         responseTimeoutMilliseconds: Int, ids: ReplaySessionIDs, onProgress: @escaping (ReplayProgress) -> Void) {
        self.plan = plan
        evaluation = ReplayEvaluation(diff: diff, keepsEqualOutcomes: keepsEqualOutcomes)
        let share = connections.map { $0.map { plan.connections[$0] } } ?? plan.connections
        self.share = share
        self.pacing = pacing
        scheduler = ReplayScheduler(connections: share, pacing: pacing)
        self.recorder = recorder
        self.onProgress = onProgress
        progress = ReplayProgress(total: scheduler.totalDispatches)
        makeContext = {
            let source = PooledUpstreamLegSource(connector: connector, limits: HTTP1Limits(), idleMilliseconds: 30_000,
                                                 maxIdlePerKey: max(UpstreamLegPool.defaultMaxIdlePerKey, pacing.concurrency))
            let collector = ReplayedFlowCollector(inner: recorder.makeSink(), sessionDirectory: sessionDirectory,
                                                  limit: diff.options.bodyLimit)
            return ReplayContext(loop: connector.loop, source: source, recorder: recorder, collector: collector,
                                 responseTimeoutMilliseconds: responseTimeoutMilliseconds,
                                 recordedPaceSpeed: pacing.pace == .recorded ? pacing.speed : nil,
                                 ids: ids)
        }
    }

    /// What the replay found: the comparisons and the items found unsendable when their
    /// turn came, moved out (`ReplayRunnerGroup.result` merges every runner's). Call once, after the
    /// completion ran, from any thread (the loop is done with the runner then).
    func takeFindings() -> (evaluation: ReplayEvaluation, lost: [ReplaySkippedFlow]) {
        var taken = ReplayEvaluation(diff: evaluation.diff, keepsEqualOutcomes: evaluation.keepsEqualOutcomes)
        swap(&taken, &evaluation)
        let lost = unreadable
        unreadable = []
        unreadableIDs = []
        return (taken, lost)
    }

    /// Starts sending; `completion` runs once every flow is finished. Call on the connector's loop.
    public func start(completion: @escaping () -> Void) {
        let context = makeContext()
        self.context = context
        self.completion = completion
        if plan.readsFromSession, pacing.pace == .none, pacing.flowsPerSecond == nil, !share.isEmpty {
            readAhead = ReplayItemReadAhead(plan: plan, connections: share, concurrency: pacing.concurrency)
        }
        scheduler.start(at: Self.now())
        drive()
    }

    private static func now() -> Int64 { Int64(MonotonicClock.nanoseconds() / 1_000) }

    /// Carries out the scheduler's actions until it has nothing more to say now.
    private func drive() {
        guard let context, completion != nil else { return }
        if driving {
            driveAgain = true
            return
        }
        driving = true
        defer { driving = false }
        repeat {
            driveAgain = false
            if recorder.isBackedUp {
                waitUntilDrained(context.loop)
                return
            }
            let now = Self.now()
            for action in scheduler.actions(at: now) {
                switch action {
                case .send(let dispatch):
                    send(dispatch, context: context)
                case .wait(let until):
                    timer?.cancel()
                    let milliseconds = Int((until - now + 999) / 1_000)
                    timer = context.loop.scheduleTimer(milliseconds: milliseconds) { [weak self] in self?.drive() }
                case .finished:
                    finish(context)
                    return
                }
            }
        } while driveAgain
    }

    private func waitUntilDrained(_ loop: EventLoop) {
        guard !waitingForDrain else { return }
        waitingForDrain = true
        let bound = LoopBound(self, loop: loop)
        recorder.whenDrained {
            bound.loop.execute {
                bound.value.waitingForDrain = false
                bound.value.drive()
            }
        }
    }

    private func send(_ dispatch: ReplayDispatch, context: ReplayContext) {
        let key = ConnectionKey(round: dispatch.round, connection: dispatch.connection)
        let connection: ReplayConnection
        if let known = connections[key] {
            connection = known
        } else {
            connection = ReplayConnection(context: context) { [weak self] in self?.exchangeEnded($0) }
            connections[key] = connection
        }
        let number = scheduler.flow(dispatch).item
        let item: ReplayItem
        do throws(ReplaySkippedFlow) {
            if let read = readAhead?.take(number) {
                switch consume read {
                case .success(let readAhead): item = readAhead
                case .failure(let skipped): throw skipped
                }
            } else {
                item = try plan.item(number)
            }
        } catch {
            if unreadableIDs.insert(error.source.id).inserted { unreadable.append(error) }
            let connectionIsDone = scheduler.finished(dispatch, at: Self.now())
            progress.done += 1
            progress.skipped += 1
            onProgress(progress)
            if connectionIsDone { connections.removeValue(forKey: key)?.close() }
            drive()  // inside `drive`: it goes round once more
            return
        }
        connection.send(item, dispatch: dispatch)
    }

    private func exchangeEnded(_ exchange: ReplayExchange) {
        if let (replay, responseBody) = exchange.takeReplayed() {
            evaluation.add(source: exchange.item.source, replay: replay, responseBody: responseBody,
                           sentRequestBody: exchange.item.request.replacementBody, firstRound: exchange.dispatch.round == 0)
        }
        let dispatch = exchange.dispatch
        let connectionIsDone = scheduler.finished(dispatch, at: Self.now())
        progress.done += 1
        if exchange.failure != nil { progress.failed += 1 }
        onProgress(progress)
        if connectionIsDone {
            connections.removeValue(forKey: ConnectionKey(round: dispatch.round, connection: dispatch.connection))?.close()
        }
        drive()
    }

    private func finish(_ context: ReplayContext) {
        timer?.cancel()
        timer = nil
        readAhead?.stop()
        readAhead = nil
        context.source.closeAll()
        context.collector.closeSourceFiles()
        context.sink.flush()
        let completion = self.completion
        self.completion = nil
        completion?()
    }
}
