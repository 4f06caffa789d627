import Foundation

/// Hands out body segment numbers 1, 2, 3, ... for one session, from any thread.
///
/// Every `CaptureEventEncoder` of a session fills its own segment; numbers come
/// from here so no two encoders ever share one. Thread-safe (a lock; called only
/// when an encoder starts a segment, about once per GiB).
final class SegmentNumberSource: @unchecked Sendable {
    private let lock = NSLock()
    private var last = 0

    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        last += 1
        return last
    }
}
