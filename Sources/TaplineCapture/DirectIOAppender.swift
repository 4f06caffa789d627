import CTaplineLinux
import Glibc

/// Appends to a new capture file with direct I/O (`O_DIRECT`): bytes are staged
/// in aligned buffers and go from there to the disk in large aligned writes
/// (run by a `DirectWriteQueue`), never through the page cache.
///
/// Why: the proxy never reads back what it captures, and storing through the page
/// cache costs several times the system time per byte that large direct writes do,
/// even when written pages are dropped soon after (`WrittenPageRelease`; figures in
/// docs/performance.md, "1 MiB with capture").
///
/// Direct writes must start and end on block boundaries, so the last partial
/// block stays staged. `makeVisible()` puts it in the file as well, with an
/// ordinary write through the file's other descriptor; the next direct write
/// rewrites that block, now longer (the kernel writes the cached page back and
/// drops it first). So the file always holds a prefix of what was appended, and
/// after `makeVisible()` all of it.
///
/// Two staging buffers take turns: one fills while the queue writes the other.
/// A full buffer's whole blocks become a queue job; its partial last block is
/// carried to the other buffer, which is first waited for if still being written.
///
/// Fallback: if the device refuses a direct write (EINVAL: it wants a larger
/// alignment than `alignment`), the queue writes that job through the ordinary
/// descriptor and the appender does so for every later one (whole buffers then,
/// not only whole blocks).
///
/// Invariants: the current buffer holds the file's bytes
/// `stagingOffset ..< stagingOffset + staged`; everything before `stagingOffset`
/// has been submitted to the queue (job `lastJob` and earlier); in direct mode
/// `stagingOffset` is a multiple of `alignment`. `visibleLength` bytes are known
/// to be in the file (set by `makeVisible`). A buffer is refilled only after its
/// last job was waited for without error, so after a write error (the queue then
/// skips every later job, of every file) the bytes of this file's jobs that may
/// not have been written are still in the buffers: `writeHeldBytes` salvages them.
///
/// Thread ownership: one owner at a time (the capture writer thread), like its
/// `CaptureFile`; the queue's thread only reads buffers handed to it in jobs.
final class DirectIOAppender {
    /// Offsets, lengths and memory of direct writes are multiples of this (the
    /// largest logical block size of common devices).
    static let defaultAlignment = 4096
    /// 1 MiB per staging buffer: direct writes this large cost the least system time per byte.
    static let defaultCapacity = 1 << 20

    let path: String
    let capacity: Int
    let alignment: Int
    private let queue: DirectWriteQueue
    private let directDescriptor: Int32
    /// The descriptor the file was created with (no O_DIRECT): partial blocks, fallback.
    private let bufferedDescriptor: Int32
    private let buffers: [UnsafeMutableRawPointer]
    /// The last job that read each buffer (0: none); a buffer is free once that job ran.
    private var bufferJobs: [UInt64]
    /// Where in the file the bytes of each buffer's last job go, while the buffer
    /// still holds them (nil once it is refilled).
    private var bufferJobRanges: [(offset: UInt64, length: Int)?] = [nil, nil]
    private var current = 0
    private var staged = 0
    private var stagingOffset: UInt64 = 0
    private var lastJob: UInt64 = 0
    private var visibleLength: UInt64 = 0
    /// False once the device refused a direct write.
    private(set) var writesDirectly = true

    /// Opens `path` (already created, empty, open as `descriptor`) a second time
    /// for direct I/O. Returns nil when its file system does not do direct I/O
    /// (tmpfs before Linux 6.6, some FUSE and overlay mounts): the caller then
    /// writes through `descriptor` as usual. `descriptor` stays the caller's to
    /// close, after this appender is gone. (Tests pass an `alignment` the device
    /// refuses, to exercise the fallback.)
    init?(path: String, descriptor: Int32, queue: DirectWriteQueue,
          capacity: Int = defaultCapacity, alignment: Int = defaultAlignment) {
        precondition(alignment > 0 && capacity > 0 && capacity % alignment == 0, "the staging capacity is whole blocks")
        let direct = tapline_open_direct(path, O_WRONLY, 0)
        guard direct >= 0 else { return nil }
        self.path = path
        self.capacity = capacity
        self.alignment = alignment
        self.queue = queue
        directDescriptor = direct
        bufferedDescriptor = descriptor
        buffers = (0..<2).map { _ in .allocate(byteCount: capacity, alignment: alignment) }
        bufferJobs = [0, 0]
    }

    deinit {
        try? queue.wait(for: lastJob)  // the queue may still be reading a buffer
        for buffer in buffers { buffer.deallocate() }
        _ = Glibc.close(directDescriptor)
    }

    /// The file's length once everything appended is written.
    var length: UInt64 { stagingOffset + UInt64(staged) }

    /// Bytes appended that may not be in the file yet (lost if the process dies).
    var hasInvisibleBytes: Bool { visibleLength < stagingOffset + UInt64(staged) }

    /// Whether appending `count` more bytes submits some of them to be written.
    func appendWritesOut(_ count: Int) -> Bool { staged + count > capacity }

    /// Copies `bytes` into the staging buffers, submitting each as it fills.
    func append(_ bytes: UnsafeRawBufferPointer) throws(CaptureError) {
        guard var source = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            if staged == capacity { try submitStaged() }
            let count = min(left, capacity - staged)
            (buffers[current] + staged).copyMemory(from: source, byteCount: count)
            staged += count
            source += count
            left -= count
        }
    }

    /// Puts every appended byte in the file: submits the whole blocks, waits until
    /// the queue has written them, then writes the partial last block through the
    /// page cache (it stays staged for the next direct write).
    func makeVisible() throws(CaptureError) {
        try submitStaged()
        try queue.wait(for: lastJob)
        guard hasInvisibleBytes else { return }
        let start = Int(max(visibleLength, stagingOffset) - stagingOffset)
        let code = CaptureFile.positionedWrite(UnsafeRawBufferPointer(start: buffers[current] + start, count: staged - start),
                                               to: bufferedDescriptor, at: stagingOffset + UInt64(start))
        if code != 0 { throw CaptureFile.writeError(path: path, code: code) }
        visibleLength = stagingOffset + UInt64(staged)
    }

    /// After a write error: puts every byte appended so far in the file through
    /// the ordinary descriptor, without the queue (which skips every job after
    /// its first error): the last job of each buffer that may have been skipped,
    /// then the staged bytes. Rewriting bytes a job did write changes nothing.
    /// Only the page cache is used from then on; the caller stops appending
    /// through this appender.
    func writeHeldBytes() throws(CaptureError) {
        try? queue.wait(for: lastJob)  // the queue is done with the buffers (its error is known)
        writesDirectly = false
        let other = 1 - current
        if let range = bufferJobRanges[other] {
            let code = CaptureFile.positionedWrite(UnsafeRawBufferPointer(start: buffers[other], count: range.length),
                                                   to: bufferedDescriptor, at: range.offset)
            if code != 0 { throw CaptureFile.writeError(path: path, code: code) }
        }
        let code = CaptureFile.positionedWrite(UnsafeRawBufferPointer(start: buffers[current], count: staged),
                                               to: bufferedDescriptor, at: stagingOffset)
        if code != 0 { throw CaptureFile.writeError(path: path, code: code) }
        visibleLength = stagingOffset + UInt64(staged)
    }

    /// `makeVisible()`, then fsync.
    func sync() throws(CaptureError) {
        try makeVisible()
        if fsync(bufferedDescriptor) != 0 { throw .cannotWrite(path: path, reason: CaptureFile.lastErrorText()) }
    }

    /// Submits the current buffer's whole blocks (after a refusal: all of it) and
    /// switches to the other buffer, carrying the rest over.
    private func submitStaged() throws(CaptureError) {
        if writesDirectly && queue.refusedDirectIO(directDescriptor) { writesDirectly = false }
        let length = writesDirectly ? staged / alignment * alignment : staged
        guard length > 0 else { return }
        let buffer = buffers[current]
        lastJob = queue.submit(DirectWriteQueue.Job(
            path: path, descriptor: writesDirectly ? directDescriptor : bufferedDescriptor,
            fallbackDescriptor: bufferedDescriptor, bytes: UnsafeRawBufferPointer(start: buffer, count: length),
            offset: stagingOffset))
        bufferJobs[current] = lastJob
        bufferJobRanges[current] = (stagingOffset, length)
        let next = 1 - current
        try queue.wait(for: bufferJobs[next])
        bufferJobRanges[next] = nil
        staged -= length
        if staged > 0 { buffers[next].copyMemory(from: buffer + length, byteCount: staged) }
        current = next
        stagingOffset += UInt64(length)
    }
}
