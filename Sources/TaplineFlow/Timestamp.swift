import Glibc

/// A wall-clock instant in microseconds since the Unix epoch (UTC).
/// Captures store these; durations between two of them are plain subtraction.
public struct Timestamp: Hashable, Sendable, Comparable {
    public let microseconds: Int64
    public init(microseconds: Int64) { self.microseconds = microseconds }

    /// The current wall-clock time.
    public static func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(microseconds: Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1_000)
    }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.microseconds < b.microseconds }

    /// Milliseconds from `self` to `later`, as a Double.
    public func milliseconds(to later: Timestamp) -> Double {
        Double(later.microseconds - microseconds) / 1_000
    }
}
