/// A deadline that is moved often but rarely reached — idle, header and
/// response timeouts — at the cost of at most one pending `LoopTimer`.
///
/// `arm` only records the new deadline; the underlying loop timer is scheduled
/// when none is pending or the new deadline is earlier than the pending one.
/// When the loop timer fires before the current deadline (because the deadline
/// moved later), it reschedules itself for the rest. So a connection doing
/// thousands of requests a second schedules a loop timer about once per
/// timeout period instead of twice per request.
///
/// Thread ownership: confined to `loop`. The timer holds `onExpire` until it is
/// deinitialised; `onExpire` should capture its owner weakly.
public final class DeadlineTimer {
    private let loop: EventLoop
    private let onExpire: () -> Void
    /// Monotonic nanoseconds of the current deadline; nil when disarmed.
    private var deadline: UInt64?
    private var pending: LoopTimer?
    private var pendingFiresAt: UInt64 = 0

    public init(loop: EventLoop, onExpire: @escaping () -> Void) {
        self.loop = loop
        self.onExpire = onExpire
    }

    deinit {
        pending?.cancel()
    }

    /// Expire `milliseconds` from now (replacing any earlier setting).
    public func arm(milliseconds: Int) {
        let now = LinuxSyscalls.monotonicNanoseconds()
        let due = now &+ UInt64(max(0, milliseconds)) &* 1_000_000
        deadline = due
        if pending == nil || due < pendingFiresAt {
            schedule(at: due, now: now)
        }
    }

    /// Stops the deadline (the loop timer, if any, stays and finds nothing to do).
    public func disarm() {
        deadline = nil
    }

    public var isArmed: Bool { deadline != nil }

    private func schedule(at due: UInt64, now: UInt64) {
        pending?.cancel()
        pendingFiresAt = due
        let milliseconds = Int((due &- min(due, now) + 999_999) / 1_000_000)
        pending = loop.scheduleTimer(milliseconds: milliseconds) { [weak self] in
            self?.fired()
        }
    }

    private func fired() {
        pending = nil
        guard let deadline else { return }
        let now = LinuxSyscalls.monotonicNanoseconds()
        if now >= deadline {
            self.deadline = nil
            onExpire()
        } else {
            schedule(at: deadline, now: now)
        }
    }
}
