import Glibc

/// A growable byte buffer with unchecked appends: the storage behind
/// `JSONLineBuilder`, and the unit in which encoded lines and body bytes are
/// handed from an event loop to the capture writer thread. A class, so its bytes
/// stay at one address while the writer gathers them for a write (no nested
/// `withUnsafeBytes` per batch) and the buffer can be handed back for reuse.
///
/// Thread ownership: one owner at a time, never shared. The encoder that fills
/// it owns it until it moves it into a `CaptureBatch`; from then on only the
/// writer thread touches it, until it hands it back emptied (hence `@unchecked
/// Sendable`: ownership is handed over, not shared).
///
/// Invariant: `count <= capacity`; bytes `0..<count` are initialized.
final class CaptureByteStorage: @unchecked Sendable {
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

    /// Appends `bytes` (one copy; grows by doubling).
    func append(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        reserve(bytes.count)
        UnsafeMutableRawPointer(base + count).copyMemory(from: source, byteCount: bytes.count)
        count += bytes.count
    }

    /// The initialized bytes, valid until the next append.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }
}
