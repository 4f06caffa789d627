/// When an upstream whose reflection failed may be asked again: after a back-off that
/// starts at `firstDelayMilliseconds` and doubles with each failure in a row, up to
/// `maxDelayMilliseconds`. A server restarted with reflection is then picked up, and one
/// without it is not asked for every call. Pure: times are given, nothing is read.
///
/// A value type.
public struct ServerReflectionRetryRule: Sendable, Equatable {
    public let firstDelayMilliseconds: UInt64
    public let maxDelayMilliseconds: UInt64

    /// - Precondition: `0 < firstDelayMilliseconds <= maxDelayMilliseconds`.
    public init(firstDelayMilliseconds: UInt64 = 10_000, maxDelayMilliseconds: UInt64 = 300_000) {
        precondition(firstDelayMilliseconds > 0 && firstDelayMilliseconds <= maxDelayMilliseconds,
                     "the first back-off must be positive and at most the largest")
        self.firstDelayMilliseconds = firstDelayMilliseconds
        self.maxDelayMilliseconds = maxDelayMilliseconds
    }

    /// The wait after the `failures`-th failure in a row (1 for the first): the first delay
    /// doubled `failures - 1` times, never more than the largest.
    public func delayMilliseconds(afterFailures failures: Int) -> UInt64 {
        var delay = firstDelayMilliseconds
        var doublings = max(0, failures - 1)
        while doublings > 0, delay < maxDelayMilliseconds {
            delay = delay > maxDelayMilliseconds / 2 ? maxDelayMilliseconds : delay * 2
            doublings -= 1
        }
        return min(delay, maxDelayMilliseconds)
    }

    /// Whether an upstream that failed `failures` times in a row, last at `failedAt`, may
    /// be asked again at `now` (milliseconds of one monotonic clock).
    public func mayRetry(failures: Int, failedAt: UInt64, now: UInt64) -> Bool {
        now >= failedAt &+ delayMilliseconds(afterFailures: failures)
    }
}
