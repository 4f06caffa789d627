import Glibc

/// A growable byte buffer with unchecked appends: the storage behind
/// `JSONLineBuilder`, and the unit of encoded lines handed from an event loop
/// to the capture writer thread.
///
/// Thread ownership: one owner at a time, never shared. The encoder that fills
/// it owns it until it moves it into a `CaptureBatch`; from then on only the
/// writer thread touches it (hence `@unchecked Sendable`: ownership is handed
/// over, not shared).
///
/// Invariant: `count <= capacity`; bytes `0..<count` are initialized.
final class JSONByteStorage: @unchecked Sendable {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var capacity: Int
    var count = 0

    init(capacity: Int) {
        self.capacity = max(64, capacity)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    var isEmpty: Bool { count == 0 }

    /// Makes room for `extra` more bytes (amortized doubling).
    @inline(__always)
    func reserve(_ extra: Int) {
        if count + extra > capacity { grow(to: count + extra) }
    }

    private func grow(to needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.update(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    /// The initialized bytes, valid until the next append.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }
}
