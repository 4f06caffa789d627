import Foundation
import TaplineFlow

/// A `FlowRecorder` that keeps every event, for tests that check what a handler
/// recorded. `wait(timeout:for:)` lets a test wait for one event exactly, without sleeping.
///
/// Thread ownership: any thread; the events are guarded by `lock`.
public final class CollectingFlowRecorder: FlowRecorder, @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [FlowEvent] = []
    private var waiters: [(matches: (FlowEvent) -> Bool, semaphore: DispatchSemaphore)] = []

    public init() {}

    /// Every event recorded so far, in order.
    public var events: [FlowEvent] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }

    public func record(_ event: FlowEvent) {
        lock.lock()
        recorded.append(event)
        let woken = waiters.filter { $0.matches(event) }
        waiters.removeAll { $0.matches(event) }
        lock.unlock()
        for waiter in woken { waiter.semaphore.signal() }
    }

    /// Waits up to `timeout` seconds for an event that `matches` (one recorded
    /// already counts); false if none came.
    public func wait(timeout: Double, for matches: @escaping (FlowEvent) -> Bool) -> Bool {
        let semaphore = DispatchSemaphore(value: 0)
        lock.lock()
        if recorded.contains(where: matches) {
            lock.unlock()
            return true
        }
        waiters.append((matches, semaphore))
        lock.unlock()
        return semaphore.wait(timeout: .now() + timeout) == .success
    }
}
