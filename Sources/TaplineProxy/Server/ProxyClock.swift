import TaplineFlow

/// Where a connection's shell gets "now" for the times it records and the
/// events it feeds its state machines: the wall clock in production, a scripted
/// one in tests. The state machines never read a clock; they are handed the time.
///
/// Thread ownership: read on the loop that owns the shell.
protocol ProxyClock {
    func now() -> Timestamp
}
