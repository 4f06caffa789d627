import Foundation

/// A lock-protected value shared between a test thread and loop threads.
final class SyncBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value

    init(_ value: Value) { stored = value }

    var value: Value {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }

    func mutate<R>(_ body: (inout Value) -> R) -> R {
        lock.withLock { body(&stored) }
    }
}
