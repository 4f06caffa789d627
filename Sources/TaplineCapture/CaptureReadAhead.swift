/// Positioned reads of capture files (events.jsonl, body segments) through a few
/// read-ahead windows, so that reading small records one after another takes one
/// `pread` for many: each window holds `windowBytes` of one file from where a read
/// missed, and serves the reads after it. Several windows, because a replay reads
/// several streams at once: the flows of each recorded connection it sends, each in
/// file order but apart from the others' (a session written connection by connection),
/// or all together in file order (one written as they happened). The least recently
/// used window goes: more streams than windows (`--concurrency` above 64 on one loop)
/// read each record with a `pread` of a window, as without read-ahead.
///
/// Invariant: a window holds bytes of its file as they were when read; a capture file
/// only grows (`DirectIOAppender`: the file always holds a prefix of what was
/// appended), so they stay true while the session is still being written. A read
/// reaching past what a window holds reads again.
///
/// Memory: `windowCount` windows of `windowBytes` once used (4 MiB) and 1 KiB of hints,
/// whatever was read; a read of more than `windowBytes` goes straight to the file and is
/// not kept.
///
/// Thread ownership: one thread (the reader that owns it).
struct CaptureReadAhead {
    static let windowBytes = 32 << 10
    static let windowCount = 64

    private struct Window {
        var file: ObjectIdentifier
        var offset: UInt64
        var bytes: [UInt8]
        var lastUse: UInt64
    }

    private var windows: [Window] = []
    /// Counts reads, for the least recently used window.
    private var clock: UInt64 = 0
    /// Where a read looks first: per stretch of `windowBytes` of a file (its offset
    /// divided by `windowBytes`, modulo `hintCount`), the window last made starting in
    /// it (its index + 1; 0 for none). A window that serves a read starts in the read's
    /// stretch or the one before, so most reads find theirs in two looks instead of
    /// going through every window. Only a hint: what it names is checked like any
    /// window, and a read it does not serve looks at every window, as without it.
    private var hints = [Int32](repeating: 0, count: Self.hintCount)
    private static let hintCount = 256

    /// Up to `count` bytes of `file` from `offset`: fewer only where the file ends,
    /// none past it.
    ///
    /// - Throws: `cannotRead` naming the file when it cannot be read.
    mutating func read(_ file: CaptureFile, at offset: UInt64, count: Int) throws(CaptureError) -> ArraySlice<UInt8> {
        guard count > 0 else { return [] }
        guard count <= Self.windowBytes else { return try file.read(count: count, at: offset)[...] }
        clock += 1
        let id = ObjectIdentifier(file)
        let stretch = Int(truncatingIfNeeded: offset / UInt64(Self.windowBytes))
        if let bytes = serve(Int(hints[stretch & (Self.hintCount - 1)]) - 1, file: id, offset: offset, count: count)
            ?? serve(Int(hints[(stretch &- 1) & (Self.hintCount - 1)]) - 1, file: id, offset: offset, count: count) {
            return bytes
        }
        for index in windows.indices {
            if let bytes = serve(index, file: id, offset: offset, count: count) { return bytes }
        }
        let bytes = try file.read(count: Self.windowBytes, at: offset)
        let window = Window(file: id, offset: offset, bytes: bytes, lastUse: clock)
        var placed = windows.count
        if windows.count < Self.windowCount {
            windows.append(window)
        } else if let oldest = windows.indices.min(by: { windows[$0].lastUse < windows[$1].lastUse }) {
            windows[oldest] = window
            placed = oldest
        }
        hints[stretch & (Self.hintCount - 1)] = Int32(placed + 1)
        return bytes[..<min(bytes.count, count)]
    }

    /// The `count` bytes from `offset` of the file `file` from window `index`, when it
    /// holds them (marked used).
    @inline(__always)
    private mutating func serve(_ index: Int, file: ObjectIdentifier, offset: UInt64, count: Int) -> ArraySlice<UInt8>? {
        guard index >= 0, index < windows.count, windows[index].file == file, offset >= windows[index].offset else { return nil }
        let start = offset - windows[index].offset
        guard start + UInt64(count) <= UInt64(windows[index].bytes.count) else { return nil }
        windows[index].lastUse = clock
        let from = Int(start)
        return windows[index].bytes[from..<(from + count)]
    }

    /// Lets every window go: call when their files are closed (a window knows its file
    /// by identity, which a file opened later may take over).
    mutating func removeAll() {
        windows = []
        hints = [Int32](repeating: 0, count: Self.hintCount)
    }

}
