import Glibc
import TaplineFlow

/// The writer thread's half of a `CaptureWriter`: appends encoded batches to the
/// session's files (events.jsonl and the body segments).
///
/// Thread ownership: created by `CaptureWriter.init`, then used only by the
/// writer thread (hence `@unchecked Sendable`: it is handed over once, never shared).
///
/// Invariants:
/// - For every group of batches, all body runs are written before any line, so a
///   reader never sees an extent pointing past the end of a segment written by a
///   cleanly behaving disk.
/// - A group costs one `writev` to events.jsonl and one `writev` per contiguous
///   stretch of a segment across all its batches (several encoders write to
///   their own segments, so their runs interleave). Segment files are
///   append-only: each is filled by one encoder, whose runs arrive in offset
///   order, so appending puts every byte at the offset its line names.
/// - A segment an encoder has finished with is fsynced and closed after its runs.
/// - The files are written with direct I/O where the file system does it, so
///   appends are staged (`CaptureFile.makeVisible`). Whenever events.jsonl is
///   about to write lines out, every segment has first made all its bytes
///   visible, so the order above holds for what reaches the files. Staged bytes
///   are made visible at the latest `visibilityDelay` after they were appended
///   (the writer thread calls `makeVisibleIfDue`), and on `finish`.
/// - After the first write error no more batches are written (the error is
///   reported once on stderr); batches are still consumed so the proxy is never
///   stalled by a broken disk. The lines of earlier groups that events.jsonl
///   still held staged are written out then, followed by a `writer-error` line,
///   into the room the session's `CaptureSpaceReserve` frees — before any
///   segment's staged bytes, so no segment can take that room (see `fail`) — and
///   the rest of the reserve is freed by `finish` for session.json. The body
///   bytes of flows in flight at the error, or staged for the segment that failed,
///   may be cut short: their lines are kept and name bytes the segment lacks.
final class CaptureBatchWriter: @unchecked Sendable {
    let directory: String
    private let events: CaptureFile
    /// Runs the direct writes of every file of the session (see `DirectIOAppender`).
    private let directWrites: DirectWriteQueue
    /// Space held back for the end of the session (see `fail` and `finish`).
    private let reserve: CaptureSpaceReserve?
    /// The segments open for appending. One per encoder at a time, so a handful:
    /// searched linearly (hashing a segment number into a dictionary cost more than
    /// the rest of an append's bookkeeping).
    private var segments: [OpenSegment] = []
    /// Reused by `writeLines` (emptied after each group, keeping its capacity).
    private var lineGather = CaptureFile.Gather()
    private(set) var failure: CaptureError?
    private(set) var stats = SessionStats()
    /// When bytes were first left staged (not visible) after a group; nil when none are.
    private(set) var invisibleSince: ContinuousClock.Instant?

    /// A segment whose body bytes arrive in bulk leaves direct I/O for the page
    /// cache: at `bulkBytesPerSecond` or more over a `rateWindow` (large bodies
    /// streaming): direct writes go one at a time, while the page cache's writeback
    /// keeps several in flight and stores bulk faster (docs/performance.md, "1 MiB
    /// with capture"). Small bodies at any realistic request rate stay far below and
    /// keep direct I/O: it is their per-byte CPU cost that it saves.
    static let bulkBytesPerSecond = 256 << 20
    static let rateWindow = Duration.milliseconds(100)

    /// How long appended bytes may stay only in memory: what a reader of a live
    /// session (`tapline show`) may miss, and what a killed process loses at most
    /// beyond its queue.
    static let visibilityDelay = Duration.milliseconds(50)

    /// `events` was created with `directWrites` as its queue (or without direct I/O).
    init(directory: String, events: CaptureFile, directWrites: DirectWriteQueue, reserve: CaptureSpaceReserve? = nil) {
        self.directory = directory
        self.events = events
        self.directWrites = directWrites
        self.reserve = reserve
    }

    /// Writes a group of batches: their body runs, then their lines.
    func write(_ batches: [CaptureBatch]) {
        for batch in batches { stats.add(batch.stats) }
        guard failure == nil else { return }
        do throws(CaptureError) {
            try writeBodies(of: batches)
            try writeLines(of: batches)
            for batch in batches {
                for number in batch.finishedSegments { try closeSegment(number) }
            }
        } catch {
            fail(error)
        }
        if invisibleSince == nil && hasInvisibleBytes { invisibleSince = .now }
    }

    /// Some appended bytes are still staged in memory.
    var hasInvisibleBytes: Bool {
        events.hasInvisibleBytes || segments.contains { $0.file.hasInvisibleBytes }
    }

    /// When the staged bytes must be made visible, if any are staged.
    var visibilityDeadline: ContinuousClock.Instant? { invisibleSince.map { $0 + Self.visibilityDelay } }

    /// Makes the staged bytes visible once they have waited `visibilityDelay`.
    func makeVisibleIfDue() {
        if let deadline = visibilityDeadline, deadline <= .now { makeVisible() }
    }

    /// Hands every staged byte to the kernel: the segments', then events.jsonl's.
    func makeVisible() {
        invisibleSince = nil
        guard failure == nil else { return }
        do throws(CaptureError) {
            try makeSegmentsVisible()
            try events.makeVisible()
        } catch {
            fail(error)
        }
    }

    private func makeSegmentsVisible() throws(CaptureError) {
        for segment in segments { try segment.file.makeVisible() }
    }

    /// Makes everything durable (fsync), closes the files and frees the space
    /// reserve (session.json is rewritten next). Returns the first error, if any.
    func finish() -> CaptureError? {
        if failure == nil {
            do throws(CaptureError) {
                for number in segments.map(\.number).sorted() { try closeSegment(number) }
                try events.sync()
            } catch {
                fail(error)
            }
        }
        for segment in segments { segment.file.close() }
        segments = []
        events.close()
        directWrites.stop()
        reserve?.release()
        return failure
    }

    // MARK: - Files

    /// The path of segment `number`: `bodies/000001.bin`.
    static func segmentPath(directory: String, number: Int) -> String {
        let digits = String(number)
        return directory + "/bodies/" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits + ".bin"
    }

    /// A segment file being appended to, with the bookkeeping of its appends.
    private struct OpenSegment {
        let number: Int
        let file: CaptureFile
        /// Bytes written so far: the next run must start exactly here.
        var size: UInt64 = 0
        /// While written directly: when the current rate window began (nil before
        /// the first append) and the bytes appended since (see `arrivesInBulk`).
        var rateSince: ContinuousClock.Instant?
        var rateBytes = 0
    }

    /// The index in `segments` of segment `number`, opened (created) on first use.
    private func segmentIndex(_ number: Int) throws(CaptureError) -> Int {
        if let index = segments.firstIndex(where: { $0.number == number }) { return index }
        let file = try CaptureFile.create(Self.segmentPath(directory: directory, number: number), directIO: directWrites)
        segments.append(OpenSegment(number: number, file: file))
        return segments.count - 1
    }

    private func closeSegment(_ number: Int) throws(CaptureError) {
        guard let index = segments.firstIndex(where: { $0.number == number }) else { return }
        let file = segments.remove(at: index).file
        try file.sync()
        file.close()
    }

    /// One `writev` per stretch that is contiguous in one segment, across the whole
    /// group: a busy loop submits a batch per iteration (a few KiB each), and a
    /// system call per batch cost the writer more than the bytes did. Batches of
    /// several loops interleave in a group, so each segment gathers its own runs.
    private func writeBodies(of batches: [CaptureBatch]) throws(CaptureError) {
        var stretches: [SegmentStretch] = []
        for batch in batches where !batch.runs.isEmpty {
            // The batch's storage stays alive and unchanged in `batches` for this call.
            guard let bytes = batch.bodies?.bytes else { continue }
            var position = 0
            for run in batch.runs {
                let piece = UnsafeRawBufferPointer(rebasing: bytes[position..<position + run.length])
                position += run.length
                guard let index = stretches.firstIndex(where: { $0.segment == run.segment }) else {
                    stretches.append(SegmentStretch(segment: run.segment, start: run.offset, piece: piece))
                    continue
                }
                if stretches[index].end != run.offset || stretches[index].gather.isFull {
                    try append(stretches[index].gather, to: run.segment, at: stretches[index].start)
                    stretches[index] = SegmentStretch(segment: run.segment, start: run.offset, piece: piece)
                } else {
                    stretches[index].add(piece)
                }
            }
        }
        for stretch in stretches { try append(stretch.gather, to: stretch.segment, at: stretch.start) }
    }

    /// Body bytes gathered for one contiguous `writev` to a segment.
    private struct SegmentStretch {
        let segment: Int
        let start: UInt64
        private(set) var end: UInt64
        private(set) var gather = CaptureFile.Gather()

        init(segment: Int, start: UInt64, piece: UnsafeRawBufferPointer) {
            self.segment = segment
            self.start = start
            self.end = start
            add(piece)
        }

        mutating func add(_ piece: UnsafeRawBufferPointer) {
            gather.append(piece)
            end += UInt64(piece.count)
        }
    }

    /// Appends to a segment file, which must end exactly at `offset` (the offset the lines name).
    private func append(_ gather: CaptureFile.Gather, to number: Int, at offset: UInt64) throws(CaptureError) {
        let index = try segmentIndex(number)
        let file = segments[index].file
        let size = segments[index].size
        guard size == offset else {
            throw .cannotWrite(path: file.path, reason: "internal error: body bytes for offset \(offset) but the segment has \(size) bytes")
        }
        if file.directIO != nil && Self.arrivesInBulk(&segments[index], adding: gather.byteCount) {
            try file.leaveDirectIO()
        }
        try file.writeAll(gather)
        segments[index].size = size + UInt64(gather.byteCount)
    }

    /// Counts `count` more bytes for `segment`; true when a `rateWindow` has passed
    /// with at least `bulkBytesPerSecond` (the window then starts over).
    private static func arrivesInBulk(_ segment: inout OpenSegment, adding count: Int) -> Bool {
        let now = ContinuousClock.now
        guard let since = segment.rateSince else {
            segment.rateSince = now
            segment.rateBytes = count
            return false
        }
        segment.rateBytes += count
        let elapsed = now - since
        guard elapsed >= rateWindow else { return false }
        let bytes = segment.rateBytes
        segment.rateSince = now
        segment.rateBytes = 0
        return Double(bytes) >= Double(bulkBytesPerSecond) * elapsed.seconds
    }

    /// One `writev` of every batch's lines (with direct I/O: staged, after the
    /// segments were made visible if any line is about to be written out).
    private func writeLines(of batches: [CaptureBatch]) throws(CaptureError) {
        let lineBytes = batches.reduce(0) { $0 + $1.lines.count }
        if lineBytes > 0 && events.appendWritesOut(lineBytes) { try makeSegmentsVisible() }
        defer { lineGather.removeAll() }  // its pointers are only good for this group
        for batch in batches where !batch.lines.isEmpty {
            if lineGather.isFull {
                try events.writeAll(lineGather)
                lineGather.removeAll()
            }
            lineGather.append(batch.lines.bytes)
        }
        if !lineGather.isEmpty { try events.writeAll(lineGather) }
    }

    /// Records the first error and keeps what can be kept, in the room freed from
    /// the reserve: first the lines events.jsonl still holds staged (written before
    /// the failed group) and a `writer-error` line, fsynced; only then the body
    /// bytes the other segments still hold staged. Each step is best effort: any
    /// file may be the one that failed.
    ///
    /// Why this order: the freed room (`CaptureSpaceReserve`) is sized for
    /// events.jsonl's staging buffers, and a segment can hold as many bytes staged;
    /// salvaged first, segments could take all of it on a full disk and leave the
    /// events without room. So a kept line may name body bytes that could not be
    /// salvaged after it (the disk had no room left, or they were staged for the
    /// segment whose write failed, which is not rewritten: its error would recur):
    /// the line is whole and readable, and a reader reports that body as ending
    /// before the bytes the line names.
    private func fail(_ error: CaptureError) {
        guard failure == nil else { return }
        failure = error
        let message = "tapline: capture stopped: \(error); the proxy keeps running but this session is incomplete\n"
        CaptureFile.printError(message)
        reserve?.shrinkToSessionFile()
        keepEventLinesAfterFailure(error)
        salvageSegmentsAfterFailure(error)
    }

    /// events.jsonl's staged lines, then the `writer-error` line, then fsync.
    /// events.jsonl is rewritten even when it is the file that failed: the room
    /// just freed is what it lacked.
    private func keepEventLinesAfterFailure(_ error: CaptureError) {
        var line = JSONLineBuilder(capacity: 512)
        line.beginEvent("writer-error", time: Timestamp.now().microseconds)
        line.key("message"); line.string(error.description)
        line.endEvent()
        do throws(CaptureError) {
            try events.writeHeldBytesAfterFailure()
            try line.withUnsafeBytes { bytes in
                Result { () throws(CaptureError) in try events.writeAll(bytes) }
            }.get()
            try events.sync()
        } catch let eventsError {
            if eventsError != error { CaptureFile.printError("tapline: \(eventsError)") }
        }
    }

    /// The staged body bytes of every segment but the one whose write failed,
    /// each fsynced, in segment order, into whatever room is left.
    private func salvageSegmentsAfterFailure(_ error: CaptureError) {
        for segment in segments.sorted(by: { $0.number < $1.number }).map(\.file) {
            guard segment.path != error.filePath else { continue }
            do throws(CaptureError) {
                try segment.writeHeldBytesAfterFailure()
                try segment.sync()
            } catch let segmentError {
                if segmentError != error { CaptureFile.printError("tapline: \(segmentError)") }
            }
        }
    }
}
