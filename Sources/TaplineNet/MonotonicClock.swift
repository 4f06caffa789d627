/// The clock event-loop timers run on (CLOCK_MONOTONIC), for code that keeps its
/// own deadlines and arms one `DeadlineTimer` for many of them. Thread-safe.
public enum MonotonicClock {
    /// Nanoseconds since an arbitrary start; never goes backwards.
    @inline(__always)
    public static func nanoseconds() -> UInt64 { LinuxSyscalls.monotonicNanoseconds() }
}
