import Foundation

/// A value handed from another thread (an event loop) to the waiting test thread, once.
public final class SyncResult<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private let ready = DispatchSemaphore(value: 0)
    private var value: Value?

    public init() {}

    public func set(_ newValue: Value) {
        lock.withLock { value = newValue }
        ready.signal()
    }

    /// The value once set, or nil when `seconds` passed first.
    public func wait(seconds: Double) -> Value? {
        guard ready.wait(timeout: .now() + seconds) == .success else { return nil }
        return lock.withLock { value }
    }
}
