/// One epoll event loop running on its own thread.
///
/// Thread ownership: everything registered with a loop (connections, listeners,
/// timers) is confined to the loop's thread and must only be touched from it.
/// The only thread-safe entry points are `execute(_:)`, `inEventLoop` and `stop()`.
public final class EventLoop: @unchecked Sendable {
    /// True when called on this loop's thread.
    public var inEventLoop: Bool { false /* TODO(net) */ }

    /// Runs `task` on the loop's thread, soon (FIFO). Callable from any thread.
    public func execute(_ task: @escaping @Sendable () -> Void) {}

    /// Calls `callback` on the loop's thread after `milliseconds`. Loop thread only.
    @discardableResult
    public func scheduleTimer(milliseconds: Int, _ callback: @escaping () -> Void) -> LoopTimer {
        LoopTimer()
    }
}

/// A pending timer of an `EventLoop`; `cancel()` it from the loop's thread.
public final class LoopTimer {
    init() {}
    public func cancel() {}
}
