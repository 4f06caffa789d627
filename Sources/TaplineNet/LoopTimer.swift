/// A timer scheduled with `EventLoop.scheduleTimer(milliseconds:_:)`.
///
/// Thread ownership: confined to its loop; `cancel()` it from the loop's thread.
/// The loop keeps the timer (and so its callback's captures) alive until it fires
/// or is cancelled; after either, the callback is released.
public final class LoopTimer {
    enum State { case pending, fired, cancelled }

    let loop: EventLoop
    private(set) var state: State = .pending
    private var callback: (() -> Void)?

    init(loop: EventLoop, callback: @escaping () -> Void) {
        self.loop = loop
        self.callback = callback
    }

    /// True until the timer fires or is cancelled.
    public var isPending: Bool { state == .pending }

    /// Prevents the callback from running (no-op if it already ran or was cancelled).
    public func cancel() {
        guard state == .pending else { return }
        state = .cancelled
        callback = nil
        loop.timerWasCancelled()
    }

    /// Runs the callback once (called by the loop when the deadline passed).
    func fire() {
        guard state == .pending else { return }
        state = .fired
        let body = callback
        callback = nil
        body?()
    }
}
