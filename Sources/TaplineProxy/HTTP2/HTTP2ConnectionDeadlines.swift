import TaplineNet

/// The deadlines of one HTTP/2 client connection: each stream's response deadline (its
/// upstream's first response byte), the idle timeout (no stream in flight), the client's
/// preface, and how long streams accepted before a calm-down may take. It owns the timers
/// and tells its owner which deadline passed; what that means (504s, GOAWAY, closing) is
/// the owner's to decide.
///
/// Response deadlines: every stream gets the same timeout, kept on the stream itself
/// (`HTTP2ResponseDeadlineHolder`) and read against `clock`. All of them share one
/// `DeadlineTimer`: the earliest deadline is the timer's own unless the timer is idle,
/// so there is no timer, table entry or closure per stream. When it fires the owner
/// takes the expired ones (`takeExpiredResponseDeadlines`), which re-arms the timer
/// for the earliest one left.
///
/// Invariant: the response timer is armed whenever a holder the owner will sweep has a
/// deadline (a deadline may be cleared without disarming: the sweep finds nothing then).
///
/// Thread ownership: confined to `loop` (the connection's). `owner` is weak; the timers'
/// callbacks hold this object weakly, so dropping it stops them.
final class HTTP2ConnectionDeadlines {
    weak var owner: (any HTTP2ConnectionDeadlinesOwner)?
    /// True once `startCalmDown` ran (for the rest of the connection's life).
    private(set) var isCalmingDown = false
    private let loop: EventLoop
    private let timeouts: ProxyTimeouts
    /// Monotonic nanoseconds, the clock of the response deadlines (injected for tests).
    private let clock: () -> UInt64
    private lazy var responseTimer = DeadlineTimer(loop: loop) { [weak self] in
        self?.owner?.responseDeadlinesPassed()
    }
    private var idleTimer: LoopTimer?
    private var prefaceTimer: LoopTimer?
    private var calmDownTimer: LoopTimer?

    /// - Parameter clock: monotonic nanoseconds; the loop's own clock unless a test fakes it.
    init(loop: EventLoop, timeouts: ProxyTimeouts, clock: @escaping () -> UInt64 = { MonotonicClock.nanoseconds() }) {
        self.loop = loop
        self.timeouts = timeouts
        self.clock = clock
    }

    // MARK: Response deadlines

    /// Starts `holder`'s response timeout (its upstream stream just opened).
    func armResponseDeadline(for holder: some HTTP2ResponseDeadlineHolder) {
        let timeout = timeouts.response
        holder.responseDeadline = clock() &+ UInt64(max(0, timeout)) &* 1_000_000
        if !responseTimer.isArmed { responseTimer.arm(milliseconds: timeout) }
    }

    /// The holders among `holders` whose deadline passed, in stream order, each with its
    /// deadline cleared; the timer is re-armed for the earliest deadline still pending.
    func takeExpiredResponseDeadlines<Holders: Sequence>(among holders: Holders) -> [Holders.Element]
    where Holders.Element: HTTP2ResponseDeadlineHolder {
        let now = clock()
        var earliest: UInt64?
        var late: [Holders.Element] = []
        for holder in holders {
            guard let deadline = holder.responseDeadline else { continue }
            if deadline <= now {
                late.append(holder)
            } else {
                earliest = min(earliest ?? deadline, deadline)
            }
        }
        late.sort { $0.clientStream < $1.clientStream }
        for holder in late { holder.responseDeadline = nil }
        if let earliest {
            responseTimer.arm(milliseconds: Int((earliest - now + 999_999) / 1_000_000))
        }
        return late
    }

    // MARK: Connection timers

    /// (Re)starts the idle timeout: the connection has no stream in flight.
    func armIdle() {
        idleTimer?.cancel()
        idleTimer = loop.scheduleTimer(milliseconds: timeouts.idle) { [weak self] in
            self?.owner?.idleTimeoutPassed()
        }
    }

    /// A stream started: the connection is not idle.
    func cancelIdle() {
        idleTimer?.cancel()
        idleTimer = nil
    }

    /// The client's preface is due within `milliseconds`.
    func armPreface(milliseconds: Int) {
        prefaceTimer = loop.scheduleTimer(milliseconds: milliseconds) { [weak self] in
            guard let self else { return }
            self.prefaceTimer = nil
            self.owner?.prefaceTimeoutPassed()
        }
    }

    /// The client's first SETTINGS arrived: its preface is complete.
    func prefaceArrived() {
        prefaceTimer?.cancel()
        prefaceTimer = nil
    }

    /// The client was told to calm down: its accepted streams have the idle timeout to finish.
    func startCalmDown() {
        isCalmingDown = true
        calmDownTimer = loop.scheduleTimer(milliseconds: timeouts.idle) { [weak self] in
            self?.owner?.calmDownTimeoutPassed()
        }
    }

    /// The connection closed: no timer of it fires any more (a pending response timer
    /// finds no holder left to sweep).
    func cancelConnectionTimers() {
        idleTimer?.cancel()
        prefaceTimer?.cancel()
        calmDownTimer?.cancel()
    }
}
