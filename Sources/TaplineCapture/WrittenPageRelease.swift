import CTaplineLinux

/// Keeps an append-only capture file from piling up in the page cache: each time
/// another `window` bytes have been appended, starts writing that window to disk,
/// then waits until the window before it is on disk and drops its pages.
///
/// Why: the proxy never reads back what it captures, and on the VMs Tapline is
/// measured on, filling fresh page-cache pages is the slowest part of storing new
/// data (350–850 MB/s measured with `dd`-like writes of 4 GiB), while pages that were
/// written back and dropped are reused at ~1.9 GB/s. On any machine it stops a long
/// capture from evicting everything else from the cache, and bounds how much
/// captured data is only in memory to about two windows per file.
///
/// Failures of these calls are ignored on purpose: they are advice about memory.
/// Every byte was already handed to `write`, and a write error shows up there or in
/// the `fsync` when the file is closed.
///
/// Invariants: `dropped <= writebackStarted <= written`; `dropped` and
/// `writebackStarted` are multiples of `window`, and the file holds exactly `written`
/// bytes (it is created empty and only appended to). Not thread-safe: owned with its
/// `CaptureFile` by the writer thread.
struct WrittenPageRelease {
    let window: UInt64
    private var written: UInt64 = 0
    private var writebackStarted: UInt64 = 0
    private var dropped: UInt64 = 0

    /// 16 MiB: large enough that the waits are rare and the disk sees big writes.
    static let defaultWindow: UInt64 = 16 << 20

    init(window: UInt64 = defaultWindow) {
        precondition(window > 0, "a page release window holds at least one byte")
        self.window = window
    }

    /// `count` more bytes were appended to the file behind `descriptor`.
    mutating func appended(_ count: Int, descriptor: Int32) {
        written += UInt64(count)
        while written - writebackStarted >= window {
            _ = tapline_start_writeback(descriptor, Int64(writebackStarted), Int64(window))
            writebackStarted += window
            if writebackStarted - dropped >= 2 * window {
                _ = tapline_write_back_and_drop(descriptor, Int64(dropped), Int64(window))
                dropped += window
            }
        }
    }
}
