import Foundation

/// Hands out increasing numbers from 1, from any thread (a lock; taken once per
/// flow or connection, never per byte).
final class IdentifierSource: @unchecked Sendable {
    private let lock = NSLock()
    private var last: UInt64 = 0

    func next() -> UInt64 {
        lock.lock()
        defer { lock.unlock() }
        last += 1
        return last
    }
}
