import TaplineFlow

/// The production `ProxyClock`: `Timestamp.now()`, the wall clock the capture records.
struct WallClock: ProxyClock {
    @inline(__always)
    func now() -> Timestamp { .now() }
}
