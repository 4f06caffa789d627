/// What `ReplayScheduler` asks its driver to do next.
public enum ReplaySchedulerAction: Sendable, Equatable {
    /// Send this flow now.
    case send(ReplayDispatch)
    /// Ask again at this time (the driver's clock, microseconds), or earlier when a flow finishes.
    case wait(untilMicroseconds: Int64)
    /// Every flow of every round was sent and finished.
    case finished
}
