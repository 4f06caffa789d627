import Foundation
import Glibc

/// Runs the direct writes of a capture session's files on a thread of its own
/// (`tapline-cap-io`), so the writer thread fills the next staging buffer
/// while the disk takes the last one. A direct write waits for the device (about
/// 0.7 ms per MiB on the VMs Tapline is measured on); done inline it capped what
/// the writer could store at ~1.1 GB/s, below what large bodies arrive at.
///
/// Jobs run one at a time in submission order, whatever file they are for. So a
/// job completes only after every job submitted before it: "sequence number `n`
/// is done" means everything up to `n` is. That keeps the capture's write order
/// (a segment's bytes before the lines that point at them) across files.
///
/// Failure: the first write error is kept (`failure`) and later jobs are skipped;
/// the writer thread sees it on its next `wait` or `submit`. A job the direct
/// descriptor refuses (EINVAL: the device wants a larger alignment) is written
/// through the file's ordinary descriptor instead, and its descriptor is
/// reported by `refusedDirectIO(_:)` so the file stops writing directly.
///
/// Thread ownership: `submit`, `wait`, `failure` and `refusedDirectIO` are called
/// by the capture writer thread (any one thread); the queue's own thread runs the
/// jobs. State shared by the two is guarded by `condition`.
final class DirectWriteQueue: @unchecked Sendable {
    /// One positioned write of a staging buffer.
    struct Job {
        let path: String
        let descriptor: Int32
        /// The file's descriptor without O_DIRECT, for a refused direct write.
        let fallbackDescriptor: Int32
        let bytes: UnsafeRawBufferPointer
        let offset: UInt64
    }

    private let condition = NSCondition()
    // Guarded by `condition`.
    private var jobs: [Job] = []
    private var nextJob = 0
    private var submitted: UInt64 = 0
    private var completed: UInt64 = 0
    private var firstFailure: CaptureError?
    private var refused: Set<Int32> = []
    private var stopping = false
    private let finished = DispatchGroup()

    init() {
        CaptureThread.start(named: "tapline-cap-io", finished: finished) { [self] in self.run() }
    }

    /// Stops the thread once every submitted job has run. Blocks until then.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
        finished.wait()
    }

    /// Queues `job`; returns its sequence number (see `wait`). `job.bytes` must stay
    /// valid and unchanged until then.
    func submit(_ job: Job) -> UInt64 {
        condition.lock()
        defer { condition.unlock() }
        precondition(!stopping, "a direct write submitted after the queue stopped")
        jobs.append(job)
        submitted += 1
        condition.broadcast()
        return submitted
    }

    /// Blocks until job `sequence` (and so every job before it) has run; then
    /// throws the first write error of any job, if there was one.
    func wait(for sequence: UInt64) throws(CaptureError) {
        condition.lock()
        while completed < sequence { condition.wait() }
        let failure = firstFailure
        condition.unlock()
        if let failure { throw failure }
    }

    /// The first write error of any job so far.
    var failure: CaptureError? {
        condition.lock()
        defer { condition.unlock() }
        return firstFailure
    }

    /// Whether a direct write through `descriptor` was refused (EINVAL).
    func refusedDirectIO(_ descriptor: Int32) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        return refused.contains(descriptor)
    }

    // MARK: - Queue thread

    private func run() {
        while true {
            condition.lock()
            while nextJob == jobs.count && !stopping { condition.wait() }
            if nextJob == jobs.count {
                condition.unlock()
                return
            }
            let job = jobs[nextJob]
            nextJob += 1
            if nextJob == jobs.count {  // caught up: reuse the array's storage
                jobs.removeAll(keepingCapacity: true)
                nextJob = 0
            }
            let skip = firstFailure != nil
            condition.unlock()

            var failure: CaptureError?
            var wasRefused = false
            if !skip {
                var code = CaptureFile.positionedWrite(job.bytes, to: job.descriptor, at: job.offset)
                if code == EINVAL && job.descriptor != job.fallbackDescriptor {
                    wasRefused = true
                    code = CaptureFile.positionedWrite(job.bytes, to: job.fallbackDescriptor, at: job.offset)
                }
                if code != 0 { failure = CaptureFile.writeError(path: job.path, code: code) }
            }

            condition.lock()
            if wasRefused { refused.insert(job.descriptor) }
            if let failure, firstFailure == nil { firstFailure = failure }
            completed += 1
            condition.broadcast()
            condition.unlock()
        }
    }
}
