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
/// While parked no pause reason holds a leg, so its connection is read and a close by
/// the server is seen. A parked leg keeps its last owner as its delegate (clearing and
/// setting a weak reference per request is measurable) but tells it nothing: a leg
/// reports only while it carries a request, and whoever takes it next sets its own.
///
/// Cost, since a kept-alive connection is parked and taken once per request: idle
/// expiry is one `DeadlineTimer` per pool (armed for the oldest parked leg), not a
/// timer per park, and a park while it is armed only appends; a key's bucket stays
/// while empty (the sweep removes it), so parking appends in place; and the bucket
/// last used is found by comparing keys, without hashing one (an owner mostly asks for
/// one origin). See docs/performance.md, "What the hot path avoids".
///
/// Thread ownership: confined to `loop`; owned by one owner (a source), whose
/// legs it holds strongly while parked.
public final class UpstreamLegPool {
    public static let defaultMaxIdlePerKey = 8

    public let maxIdlePerKey: Int
    public let idleMilliseconds: Int
    private let loop: EventLoop
    /// The parked legs of each key; a bucket may be empty.
    private var buckets: [UpstreamPoolKey: ParkedLegBucket] = [:]
    /// The bucket last used (one of `buckets`).
    private var lastBucket: ParkedLegBucket?
    private var parkedCount = 0
    private var closed = false
    private lazy var idleTimer = DeadlineTimer(loop: loop) { [weak self] in self?.sweepIdle() }
    /// `idleTimer` is armed (mirrored here so that a park need not reach the lazy timer).
    private var idleSweepArmed = false

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
        buckets[key]?.legs.lazy.filter { $0.leg.poolable }.count ?? 0
    }

    /// The most recently parked leg under `key` that can carry a request, taken out of
    /// the pool, or nil. Legs found no longer poolable on the way are cancelled.
    public func take(for key: UpstreamPoolKey) -> (any HTTPClientLeg)? {
        guard parkedCount > 0, let bucket = bucket(for: key, creating: false) else { return nil }
        return take(from: bucket)
    }

    /// `take(for: UpstreamPoolKey(target:offer:))`, with the bucket the leg came from
    /// (to `park(_:in:)` it again), and no key made when the last bucket used matches.
    func take(for target: UpstreamTarget, offer: UpstreamProtocolOffer)
        -> (leg: any HTTPClientLeg, bucket: ParkedLegBucket)? {
        guard parkedCount > 0 else { return nil }
        let found: ParkedLegBucket?
        if let lastBucket, lastBucket.key.matches(target, offer) {
            found = lastBucket
        } else {
            found = bucket(for: UpstreamPoolKey(target: target, offer: offer), creating: false)
        }
        guard let found, let leg = take(from: found) else { return nil }
        return (leg, found)
    }

    private func take(from bucket: ParkedLegBucket) -> (any HTTPClientLeg)? {
        while let entry = bucket.legs.popLast() {
            parkedCount -= 1
            if entry.leg.poolable { return entry.leg }
            entry.leg.cancel()
        }
        return nil
    }

    /// Keeps `leg` for a later request under `key` when it is `poolable`, its key has
    /// room and the pool is open; otherwise cancels it.
    public func park(_ leg: any HTTPClientLeg, for key: UpstreamPoolKey) {
        guard !closed, let bucket = bucket(for: key, creating: true) else {
            leg.delegate = nil
            leg.cancel()
            return
        }
        park(leg, in: bucket)
    }

    /// `park(leg, for: bucket.key)`, into `bucket` when the pool still has it.
    func park(_ leg: any HTTPClientLeg, in bucket: ParkedLegBucket) {
        guard bucket.isInPool else { return park(leg, for: bucket.key) }
        if lastBucket !== bucket { lastBucket = bucket }
        guard leg.poolable else {
            leg.cancel()
            return
        }
        if bucket.legs.count >= maxIdlePerKey {
            dropUnpoolable(in: bucket)
            guard bucket.legs.count < maxIdlePerKey else {
                leg.cancel()
                return
            }
        }
        for reason in LegPauseReason.allReasons { leg.resumeReading(reason) }
        bucket.legs.append(ParkedLeg(leg: leg, parkedAt: MonotonicClock.nanoseconds()))
        parkedCount += 1
        if !idleSweepArmed {
            idleSweepArmed = true
            idleTimer.arm(milliseconds: idleMilliseconds)
        }
    }

    /// Cancels every parked leg; later `park` calls cancel theirs (owner gone, shutdown).
    public func closeAll() {
        closed = true
        let entries = buckets.values.flatMap(\.legs)
        for bucket in buckets.values { bucket.isInPool = false }
        buckets = [:]
        lastBucket = nil
        parkedCount = 0
        for entry in entries { entry.leg.cancel() }
    }

    /// `key`'s bucket (made when `creating`, unless the pool is closed), or nil.
    func bucket(for key: UpstreamPoolKey, creating: Bool) -> ParkedLegBucket? {
        if let lastBucket, lastBucket.key == key { return lastBucket }
        var found = buckets[key]
        if found == nil, creating, !closed {
            found = ParkedLegBucket(key: key)
            buckets[key] = found
        }
        if let found { lastBucket = found }
        return found
    }

    private func dropUnpoolable(in bucket: ParkedLegBucket) {
        bucket.legs.removeAll { entry in
            guard !entry.leg.poolable else { return false }
            entry.leg.cancel()
            parkedCount -= 1
            return true
        }
    }

    /// Cancels the legs idle for the timeout (and any no longer poolable), drops empty
    /// buckets, then arms the timer for the oldest leg left.
    private func sweepIdle() {
        idleSweepArmed = false
        let now = MonotonicClock.nanoseconds()
        let timeout = UInt64(max(0, idleMilliseconds)) &* 1_000_000
        var oldest: UInt64?
        for (key, bucket) in buckets {
            bucket.legs.removeAll { entry in
                guard entry.leg.poolable, now &- entry.parkedAt < timeout else {
                    entry.leg.cancel()
                    parkedCount -= 1
                    return true
                }
                oldest = min(oldest ?? entry.parkedAt, entry.parkedAt)
                return false
            }
            if bucket.legs.isEmpty {
                bucket.isInPool = false
                buckets[key] = nil
            }
        }
        lastBucket = nil
        if let oldest {
            let left = (oldest &+ timeout &- now + 999_999) / 1_000_000
            idleSweepArmed = true
            idleTimer.arm(milliseconds: Int(left))
        }
    }
}
