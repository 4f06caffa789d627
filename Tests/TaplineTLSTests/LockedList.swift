import Foundation

/// A thread-safe list for concurrent tests: values appended from any thread.
final class LockedList<Element: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var elements: [Element] = []
    func append(_ element: Element) { lock.lock(); elements.append(element); lock.unlock() }
    var values: [Element] { lock.lock(); defer { lock.unlock() }; return elements }
}
