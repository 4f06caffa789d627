import TaplineNet

/// Idle upstream legs, by `UpstreamPoolKey`, for the next request that matches:
/// what lets an owner reuse connections instead of opening one per request.
///
/// Rules:
/// - Only a `poolable` leg is parked (its last response ended cleanly and its
///   connection allows another request); anything else given to `park` is cancelled.
/// - At most `maxIdlePerKey` per key: a further one is cancelled instead.
/// - `take` hands out the most recently parked leg (the least likely to have timed
///   out at the server).
/// - A parked leg is cancelled once idle for `idleMilliseconds`.
/// - A parked leg that stopped being `poolable` is never handed out and leaves the
///   pool at the next look (`take`, `park`, the idle sweep): an HTTP/1.1 leg whose
///   idle server closed or sent anything closes its connection at once (nobody may
///   speak on an idle HTTP/1.1 connection; `HTTP1ClientLeg`), an HTTP/2 leg whose
///   server sent GOAWAY or closed takes no new stream.
/// - After `closeAll`, nothing is parked any more.
///
/// While parked a leg has no delegate and no pause reason holds it, so its
/// connection is read and a close by the server is seen.
///
/// Idle expiry costs one `DeadlineTimer` per pool (armed for the oldest parked leg),
/// not one timer per park: a kept-alive connection is parked and taken once per request.
///
/// Thread ownership: confined to `loop`; owned by one owner (a source), whose
/// legs it holds strongly while parked.
public final class UpstreamLegPool {
    public static let defaultMaxIdlePerKey = 8

    public let maxIdlePerKey: Int
    public let idleMilliseconds: Int
    private var parked: [UpstreamPoolKey: [ParkedLeg]] = [:]
    private var parkedCount = 0
    private var closed = false
    private lazy var idleTimer = DeadlineTimer(loop: loop) { [weak self] in self?.sweepIdle() }
    private let loop: EventLoop

    public init(loop: EventLoop, idleMilliseconds: Int, maxIdlePerKey: Int = UpstreamLegPool.defaultMaxIdlePerKey) {
        self.loop = loop
        self.idleMilliseconds = idleMilliseconds
        self.maxIdlePerKey = maxIdlePerKey
    }

    deinit {
        closeAll()
    }

    /// Idle legs under `key` that could be handed out now.
    public func idleCount(for key: UpstreamPoolKey) -> Int {
        parked[key]?.count { $0.leg.poolable } ?? 0
    }

    /// The most recently parked leg under `key` that can carry a request, taken out of
    /// the pool, or nil. Legs found no longer poolable on the way are cancelled.
    public func take(for key: UpstreamPoolKey) -> (any HTTPClientLeg)? {
        guard var legs = parked[key] else { return nil }
        var found: (any HTTPClientLeg)?
        while let entry = legs.popLast() {
            parkedCount -= 1
            if entry.leg.poolable {
                found = entry.leg
                break
            }
            entry.leg.cancel()
        }
        parked[key] = legs.isEmpty ? nil : legs
        if parkedCount == 0 { idleTimer.disarm() }
        return found
    }

    /// Keeps `leg` for a later request under `key` when it is `poolable`, its key has
    /// room and the pool is open; otherwise cancels it.
    public func park(_ leg: any HTTPClientLeg, for key: UpstreamPoolKey) {
        leg.delegate = nil
        var legs = parked[key] ?? []
        legs.removeAll { entry in
            guard !entry.leg.poolable else { return false }
            entry.leg.cancel()
            parkedCount -= 1
            return true
        }
        guard !closed, leg.poolable, legs.count < maxIdlePerKey else {
            parked[key] = legs.isEmpty ? nil : legs
            leg.cancel()
            return
        }
        for reason in LegPauseReason.allReasons { leg.resumeReading(reason) }
        legs.append(ParkedLeg(leg: leg, parkedAt: MonotonicClock.nanoseconds()))
        parked[key] = legs
        parkedCount += 1
        if !idleTimer.isArmed { idleTimer.arm(milliseconds: idleMilliseconds) }
    }

    /// Cancels every parked leg; later `park` calls cancel theirs (owner gone, shutdown).
    public func closeAll() {
        closed = true
        let entries = parked.values.joined()
        parked = [:]
        parkedCount = 0
        for entry in entries { entry.leg.cancel() }
    }

    /// Cancels the legs idle for the timeout (and any no longer poolable), then arms
    /// the timer for the oldest one left.
    private func sweepIdle() {
        let now = MonotonicClock.nanoseconds()
        let timeout = UInt64(max(0, idleMilliseconds)) &* 1_000_000
        var oldest: UInt64?
        for (key, legs) in parked {
            var kept: [ParkedLeg] = []
            for entry in legs {
                if entry.leg.poolable, now &- entry.parkedAt < timeout {
                    kept.append(entry)
                    oldest = min(oldest ?? entry.parkedAt, entry.parkedAt)
                } else {
                    entry.leg.cancel()
                    parkedCount -= 1
                }
            }
            parked[key] = kept.isEmpty ? nil : kept
        }
        if let oldest {
            let left = (oldest &+ timeout &- now + 999_999) / 1_000_000
            idleTimer.arm(milliseconds: Int(left))
        }
    }
}
