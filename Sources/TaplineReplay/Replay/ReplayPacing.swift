/// How a replay spreads its flows over time (`--pace`, `--speed`, `--rate`,
/// `--repeat`, `--concurrency`). A value type; `ReplayScheduler` applies it.
public struct ReplayPacing: Sendable, Equatable {
    public var pace: ReplayPace
    /// `--pace recorded` only: offsets are divided by this (2: twice as fast). Above 0.
    public var speed: Double
    /// At most this many flows started per second, whatever the pace; nil: no limit.
    public var flowsPerSecond: Double?
    /// The whole selection is replayed this many times, one round after the other (at least 1).
    public var repeatCount: Int
    /// `--pace none`: recorded connections replayed at once, at most (at least 1).
    public var concurrency: Int

    public init(pace: ReplayPace = .none, speed: Double = 1, flowsPerSecond: Double? = nil, repeatCount: Int = 1,
                concurrency: Int = 1) {
        self.pace = pace
        self.speed = speed > 0 ? speed : 1
        self.flowsPerSecond = flowsPerSecond.flatMap { $0 > 0 ? $0 : nil }
        self.repeatCount = max(1, repeatCount)
        self.concurrency = max(1, concurrency)
    }
}
