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
/// - After the first write error nothing more is written (the error is reported
///   once on stderr and, if possible, as a `writer-error` event); batches are
///   still consumed so the proxy is never stalled by a broken disk.
final class CaptureBatchWriter: @unchecked Sendable {
    let directory: String
    private let events: CaptureFile
    private var segments: [Int: CaptureFile] = [:]
    /// Bytes written to each open segment (runs must continue exactly there).
    private var segmentSizes: [Int: UInt64] = [:]
    private(set) var failure: CaptureError?
    private(set) var stats = SessionStats()

    init(directory: String, events: CaptureFile) {
        self.directory = directory
        self.events = events
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
    }

    /// Makes everything durable (fsync) and closes the files. Returns the first error, if any.
    func finish() -> CaptureError? {
        if failure == nil {
            do throws(CaptureError) {
                for number in segments.keys.sorted() { try closeSegment(number) }
                try events.sync()
            } catch {
                fail(error)
            }
        }
        for file in segments.values { file.close() }
        segments = [:]
        events.close()
        return failure
    }

    // MARK: - Files

    /// The path of segment `number`: `bodies/000001.bin`.
    static func segmentPath(directory: String, number: Int) -> String {
        let digits = String(number)
        return directory + "/bodies/" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits + ".bin"
    }

    private func segmentFile(_ number: Int) throws(CaptureError) -> CaptureFile {
        if let file = segments[number] { return file }
        let file = try CaptureFile.create(Self.segmentPath(directory: directory, number: number))
        segments[number] = file
        return file
    }

    private func closeSegment(_ number: Int) throws(CaptureError) {
        segmentSizes[number] = nil
        guard let file = segments.removeValue(forKey: number) else { return }
        try file.sync()
        file.close()
    }

    /// One `writev` per stretch that is contiguous in one segment, across the whole
    /// group: a busy loop submits a batch per iteration (a few KiB each), and a
    /// system call per batch cost the writer more than the bytes did. Batches of
    /// several loops interleave in a group, so each segment gathers its own runs.
    private func writeBodies(of batches: [CaptureBatch]) throws(CaptureError) {
        guard batches.contains(where: { !$0.runs.isEmpty }) else { return }
        var borrowed: [UnsafeRawBufferPointer] = []
        borrowed.reserveCapacity(batches.count)
        try withBodies(of: batches[...], borrowed: &borrowed) { (bodies: [UnsafeRawBufferPointer]) throws(CaptureError) in
            var stretches: [SegmentStretch] = []
            for (batch, bytes) in zip(batches, bodies) where !batch.runs.isEmpty {
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

    /// Calls `body` with the body bytes of every batch, each borrowed (not copied)
    /// for the duration of the call: `borrowed` collects them, one nested
    /// `withUnsafeBytes` per batch.
    private func withBodies(of batches: ArraySlice<CaptureBatch>, borrowed: inout [UnsafeRawBufferPointer],
                            _ body: ([UnsafeRawBufferPointer]) throws(CaptureError) -> Void) throws(CaptureError) {
        guard let first = batches.first else { return try body(borrowed) }
        try first.bodies.withUnsafeBytes { bytes in
            borrowed.append(bytes)
            return Result { () throws(CaptureError) in
                try withBodies(of: batches.dropFirst(), borrowed: &borrowed, body)
            }
        }.get()
    }

    /// Appends to a segment file, which must end exactly at `offset` (the offset the lines name).
    private func append(_ gather: CaptureFile.Gather, to segment: Int, at offset: UInt64) throws(CaptureError) {
        let file = try segmentFile(segment)
        let size = segmentSizes[segment] ?? 0
        guard size == offset else {
            throw .cannotWrite(path: file.path, reason: "internal error: body bytes for offset \(offset) but the segment has \(size) bytes")
        }
        try file.writeAll(gather)
        segmentSizes[segment] = size + UInt64(gather.byteCount)
    }

    /// One `writev` of every batch's lines.
    private func writeLines(of batches: [CaptureBatch]) throws(CaptureError) {
        var gather = CaptureFile.Gather()
        for batch in batches where !batch.lines.isEmpty {
            if gather.isFull {
                try events.writeAll(gather)
                gather.removeAll()
            }
            gather.append(batch.lines.bytes)
        }
        if !gather.isEmpty { try events.writeAll(gather) }
    }

    private func fail(_ error: CaptureError) {
        guard failure == nil else { return }
        failure = error
        let message = "tapline: capture stopped: \(error); the proxy keeps running but this session is incomplete\n"
        CaptureFile.printError(message)
        // Tell readers too, if events.jsonl still takes writes (it may be the file that failed).
        var line = JSONLineBuilder(capacity: 512)
        line.beginEvent("writer-error", time: Timestamp.now().microseconds)
        line.key("message"); line.string(error.description)
        line.endEvent()
        line.withUnsafeBytes { bytes in _ = try? events.writeAll(bytes) }
    }
}
