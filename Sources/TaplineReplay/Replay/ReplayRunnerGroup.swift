import Synchronization
import TaplineFlow
import TaplineHTTPClient
import TaplineNet

/// Runs one `ReplayPlan` on several event loops (`tapline replay --threads`): the plan's
/// recorded connections are dealt out in turn, one `ReplayRunner` per loop with its
/// share of them and of `--concurrency`, its own legs, collector, comparisons and reader
/// of the source (`ReplayPlan.withOwnReader`); all record into one replay session (the
/// recorder takes events from any loop, as the proxy's loops do) with ids from one
/// `ReplaySessionIDs`; their findings are merged once every runner finished (`result`).
///
/// Recorded connections are independent under `--pace none` (the scheduler orders flows
/// only within one), so splitting them changes nothing a flow is sent or compared by.
/// `--pace recorded` (each round waits for the whole previous one) and `--rate` (one
/// spacing for all flows) keep one loop (`loopCount`).
///
/// Thread ownership: created anywhere; runner `i` is confined to `loops[i]` from `start`
/// until its completion ran; the summed progress goes to `onProgress` on the first loop;
/// `result` and `notes` are read after the completion ran, from any thread.
public final class ReplayRunnerGroup: @unchecked Sendable {
    /// The runners' progress summed: each runner reports its own on its loop; the sum
    /// goes to `onProgress` on the first loop, at most one report queued at a time.
    private final class ProgressSum: Sendable {
        private struct State {
            var latest: [ReplayProgress] = []
            var queued = false
        }

        private let state = Mutex(State())
        private let onProgress: LoopBound<(ReplayProgress) -> Void>

        init(onProgress: LoopBound<(ReplayProgress) -> Void>) {
            self.onProgress = onProgress
        }

        /// Runner `index` is at `progress` (called on its loop).
        func update(_ index: Int, _ progress: ReplayProgress) {
            let queue = state.withLock { state in
                state.latest[index] = progress
                defer { state.queued = true }
                return !state.queued
            }
            guard queue else { return }
            let onProgress = self.onProgress
            onProgress.loop.execute { [self] in
                let sum = state.withLock { state in
                    state.queued = false
                    var sum = ReplayProgress(total: state.latest.reduce(0) { $0 + $1.total })
                    for part in state.latest {
                        sum.done += part.done
                        sum.failed += part.failed
                        sum.skipped += part.skipped
                    }
                    return sum
                }
                onProgress.value(sum)
            }
        }

        func add(_ progress: ReplayProgress) {
            state.withLock { $0.latest.append(progress) }
        }
    }

    /// Runner `i` runs on `loops[i]`.
    private let runners: [ReplayRunner]
    private let loops: [EventLoop]
    /// Runners whose completion has not run yet; the last one runs the group's.
    private let unfinished: Atomic<Int>

    /// How many loops a replay of `plan` by `pacing` uses with `threads` at most: no more
    /// than it runs recorded connections at once; one under `--pace recorded` or `--rate`.
    public static func loopCount(threads: Int, plan: ReplayPlan, pacing: ReplayPacing) -> Int {
        guard pacing.pace == .none, pacing.flowsPerSecond == nil else { return 1 }
        return max(1, min(threads, pacing.concurrency, plan.connections.count))
    }

    /// - Parameters:
    ///   - loops: one runner runs on each (`loopCount` of them); the first one also runs `onProgress`.
    ///   - connector: the upstream connector for a loop.
    ///   - Others: as `ReplayRunner.init`.
    public init(plan: ReplayPlan, pacing: ReplayPacing, loops: [EventLoop], connector: (EventLoop) -> UpstreamConnector,
                recorder: any FlowRecorder, sessionDirectory: String, diff: SessionDiff, keepsEqualOutcomes: Bool,
                responseTimeoutMilliseconds: Int, onProgress: @escaping (ReplayProgress) -> Void) {
        precondition(!loops.isEmpty, "ReplayRunnerGroup needs a loop")
        let sum = ProgressSum(onProgress: LoopBound(onProgress, loop: loops[0]))
        let ids = ReplaySessionIDs()
        var shares = [[Int]](repeating: [], count: loops.count)
        for connection in plan.connections.indices { shares[connection % loops.count].append(connection) }
        var runners: [ReplayRunner] = []
        for (index, loop) in loops.enumerated() {
            var share = pacing
            share.concurrency = max(1, pacing.concurrency / loops.count + (index < pacing.concurrency % loops.count ? 1 : 0))
            let runner = ReplayRunner(plan: index == 0 ? plan : plan.withOwnReader(),
                                      connections: loops.count == 1 ? nil : shares[index], pacing: share,
                                      connector: connector(loop), recorder: recorder, sessionDirectory: sessionDirectory,
                                      diff: diff, keepsEqualOutcomes: keepsEqualOutcomes,
                                      responseTimeoutMilliseconds: responseTimeoutMilliseconds, ids: ids) { sum.update(index, $0) }
            sum.add(runner.progress)
            runners.append(runner)
        }
        self.runners = runners
        self.loops = loops
        unfinished = Atomic(runners.count)
    }

    /// Starts every runner on its loop; `completion` runs (on the loop of the last one to
    /// finish) once every flow is finished. Call once, from any thread.
    public func start(completion: @escaping @Sendable () -> Void) {
        for (runner, loop) in zip(runners, loops) {
            let bound = LoopBound(runner, loop: loop)
            loop.execute { [self] in
                bound.value.start { [self] in
                    if unfinished.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 { completion() }
                }
            }
        }
    }

    /// Flows sent otherwise than recorded (`ReplayRunner.notes`), every loop's.
    public var notes: [String] { runners.flatMap(\.notes) }

    /// What the replay found, merged from every runner: every flow against its source,
    /// `skipped` and the flows found unsendable when their turn came (in source flow id
    /// order), and the latency table. Call once; the outcomes move into the result.
    public func result(skipped: [ReplaySkippedFlow]) -> ReplayResult {
        var merged = runners[0].takeFindings()
        for runner in runners.dropFirst() {
            let findings = runner.takeFindings()
            merged.evaluation.merge(findings.evaluation)
            merged.lost += findings.lost
        }
        let all = merged.lost.isEmpty ? skipped : (skipped + merged.lost).sorted { $0.source.id < $1.source.id }
        return merged.evaluation.result(skipped: all)
    }
}
