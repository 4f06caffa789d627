/// A binary min-heap of pending timers ordered by (deadline, sequence), so
/// timers with the same deadline fire in the order they were scheduled.
/// Cancelled timers stay in the heap until popped or compacted (lazy deletion).
/// Loop-confined value type.
struct TimerHeap {
    struct Entry {
        let deadline: UInt64
        let sequence: UInt64
        let timer: LoopTimer
    }

    private(set) var entries: [Entry] = []

    var isEmpty: Bool { entries.isEmpty }
    var count: Int { entries.count }
    var first: Entry? { entries.first }

    @inline(__always)
    private static func less(_ a: Entry, _ b: Entry) -> Bool {
        a.deadline < b.deadline || (a.deadline == b.deadline && a.sequence < b.sequence)
    }

    mutating func push(_ entry: Entry) {
        entries.append(entry)
        siftUp(entries.count - 1)
    }

    mutating func popFirst() -> Entry? {
        guard !entries.isEmpty else { return nil }
        let top = entries[0]
        let last = entries.removeLast()
        if !entries.isEmpty {
            entries[0] = last
            siftDown(0)
        }
        return top
    }

    /// Drops every entry whose timer is no longer pending and restores the heap, O(n).
    mutating func removeNonPending() {
        entries.removeAll { !$0.timer.isPending }
        var i = entries.count / 2 - 1
        while i >= 0 {
            siftDown(i)
            i -= 1
        }
    }

    mutating func removeAll() { entries.removeAll() }

    private mutating func siftUp(_ index: Int) {
        var child = index
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.less(entries[child], entries[parent]) else { return }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ index: Int) {
        var parent = index
        let n = entries.count
        while true {
            let left = 2 * parent + 1
            guard left < n else { return }
            var smallest = left
            let right = left + 1
            if right < n && Self.less(entries[right], entries[left]) { smallest = right }
            guard Self.less(entries[smallest], entries[parent]) else { return }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
