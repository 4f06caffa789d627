import TaplineNet

/// The wait for an exchange's progress (its response starting, or the leg taking more of
/// its body): a `DeadlineTimer` the exchange moves on each step, failing it as
/// `upstream-timeout` when the deadline passes first.
///
/// Watches outlive exchanges: a `ReplayConnection` keeps those its ended exchanges gave
/// back (`ReplayProgressWatches`) for the next, so back-to-back requests on a connection
/// move one deadline and schedule a loop timer about once per timeout period, rather
/// than scheduling and cancelling one per request.
///
/// It names the exchange it times from `arm` until `stop` or the deadline passing, weakly
/// (as a loop timer's callback would: an exchange let go of is not failed later).
///
/// Thread ownership: confined to its loop.
final class ReplayProgressWatch {
    /// Set once, in `init` (its callback names the watch, so it is made after it).
    private var deadline: DeadlineTimer!
    private weak var exchange: ReplayExchange?

    init(loop: EventLoop) {
        deadline = DeadlineTimer(loop: loop) { [weak self] in self?.expired() }
    }

    /// Fails `exchange` unless it arms (or stops) the watch again within `milliseconds`.
    func arm(for exchange: ReplayExchange, milliseconds: Int) {
        self.exchange = exchange
        deadline.arm(milliseconds: milliseconds)
    }

    /// Stops waiting and lets go of the exchange.
    func stop() {
        deadline.disarm()
        exchange = nil
    }

    private func expired() {
        guard let exchange else { return }
        self.exchange = nil
        exchange.progressTimedOut()
    }
}
