import Foundation
import Glibc
import TaplineFlow

/// Streams flow events into a new capture session directory (format v2, see
/// docs/capture-format.md) on its own writer thread.
///
/// Thread ownership: the proxy records through `makeSink()`: one
/// `CaptureEventStream` per event loop, which encodes that loop's events on the
/// loop thread and hands over one `CaptureBatch` per loop iteration (`submit`).
/// `record` may be called from any thread: it encodes under the writer's lock
/// into a shared encoder (for tests, the importer and other single producers).
/// The writer thread (`tapline-capture`) takes everything queued at once and
/// appends it to the session's files (see `CaptureBatchWriter`); it never
/// encodes. Files are written with direct I/O where possible, by a second
/// thread (`DirectWriteQueue`); what is staged for it is made visible at the
/// latest `CaptureBatchWriter.visibilityDelay` after it was appended. `close` may be called from any thread except the writer thread
/// (i.e. not from a `whenDrained` callback).
///
/// Backpressure: the queue is bounded in bytes (encoded lines plus body bytes,
/// counted until the writer has written them). Above `highWatermark`
/// `isBackedUp` turns true so the proxy stops reading; once the backlog falls to
/// `lowWatermark` the writer thread calls every `whenDrained` callback. Nothing
/// is ever dropped while the writer is open: a producer that ignores
/// `isBackedUp` only costs memory. Events recorded after `close()` are ignored.
///
/// Failure: a write error (disk full) never crashes or blocks the proxy: it is
/// reported once on stderr and as a `writer-error` event (in room held back
/// from the start, `CaptureSpaceReserve`); later batches are consumed without
/// being written. `close()` still records `ended` and `writerError` in
/// session.json, and `writeFailure` tells the caller the session is incomplete.
public final class CaptureWriter: FlowRecorder, @unchecked Sendable {
    /// The session's id (also its directory name).
    public let sessionID: String
    /// The session directory, e.g. `./captures/20261126-154700-ab12`.
    public let directory: String

    private let options: CaptureOptions
    private let started: Timestamp
    private let files: CaptureBatchWriter
    private let segmentNumbers = SegmentNumberSource()
    private let finished = DispatchGroup()
    /// Held from before session.json is first written until it is rewritten at close,
    /// so readers can tell this session is still being written (`SessionWriterLock`).
    private let writerLock: SessionWriterLock
    /// Serializes session.json's rewrites; guards `proxyDescription` and `metadataIsFinal`.
    private let metadataLock = NSLock()
    /// session.json's `proxy`: `options.proxyDescription` until `describeProxy` replaces it.
    private var proxyDescription: [String: String]
    /// Set by the closing rewrite: later `describeProxy` calls leave the file alone.
    private var metadataIsFinal = false

    // Guarded by `condition`.
    private let condition = NSCondition()
    private var queue: [CaptureBatch] = []
    /// The emptied previous group, reused as the next queue (writer thread swaps it in under the lock).
    private var spareQueue: [CaptureBatch] = []
    /// The encoder behind `record`, used under the lock.
    private var shared: CaptureEventEncoder
    /// Bytes of `shared` already counted in `queuedBytes`.
    private var sharedCounted = 0
    /// Emptied buffers of written batches, for `submit` to hand back.
    private var spareLines: [CaptureByteStorage] = []
    private var spareBodies: [CaptureByteStorage] = []
    /// Total capacity of `spareLines` and `spareBodies` (at most `spareBytesLimit`).
    private var spareBytes = 0
    private var queuedBytes = 0
    private var backedUp = false
    private var drainCallbacks: [@Sendable () -> Void] = []
    private var closing = false
    private var peakBytes = 0
    private var heldForTesting = false
    /// The first write error (see `writeFailure`); set by the writer thread as it stops.
    private var firstWriteFailure: CaptureError?
    /// The writer thread is blocked in `condition.wait()` (so producers signal only then).
    private var writerIsWaiting = false
    /// Below this many queued bytes the writer lets batches accumulate for
    /// `coalescingMicroseconds` before writing, so a busy proxy is written in
    /// large groups with few system calls instead of one wake-up per batch.
    private static let coalescingBytes = 256 * 1024
    private static let coalescingMicroseconds: UInt32 = 2_000
    /// Emptied buffers kept for reuse, bounded by their total capacity, and the
    /// largest kept. A busy loop submits a batch every iteration, dozens per
    /// writer cycle; without enough spares each would allocate (and the writer
    /// free) fresh line and body buffers. At most 4 MiB stays allocated when idle.
    private static let spareBytesLimit = 4 << 20
    private static let spareCapacityLimit = 512 << 10

    /// An upper bound on the line bytes of one small event (a `body` line, a head
    /// without many fields); tests use it to bound the queue beyond body bytes.
    static let eventCost = 200

    /// Creates the session directory (0700) under `root` (created if needed, 0700),
    /// writes session.json (`"ended": null`) and starts the writer thread.
    ///
    /// - Throws: `CaptureError.cannotCreate` with the path and the system's reason
    ///   (permissions, read-only file system, ...).
    public init(root: String, options: CaptureOptions = CaptureOptions()) throws(CaptureError) {
        self.options = options
        proxyDescription = options.proxyDescription
        started = Timestamp.now()
        try Self.makeDirectories(root)

        var chosen: (id: String, directory: String)?
        for _ in 0..<32 {
            let id = SessionIdentifier.make(at: started)
            let candidate = (root.hasSuffix("/") ? String(root.dropLast()) : root) + "/" + id
            if mkdir(candidate, 0o700) == 0 {
                chosen = (id, candidate)
                break
            }
            if errno != EEXIST { throw .cannotCreate(path: candidate, reason: CaptureFile.lastErrorText()) }
        }
        guard let chosen else {
            throw .cannotCreate(path: root, reason: "could not find an unused session id; remove old sessions or retry")
        }
        sessionID = chosen.id
        directory = chosen.directory
        guard mkdir(directory + "/bodies", 0o700) == 0 else {
            throw .cannotCreate(path: directory + "/bodies", reason: CaptureFile.lastErrorText())
        }
        writerLock = try SessionWriterLock.acquire(directory: directory)
        let directWrites = DirectWriteQueue()
        let events: CaptureFile
        do throws(CaptureError) {
            events = try CaptureFile.create(directory + "/events.jsonl", directIO: directWrites)
        } catch {
            directWrites.stop()
            throw error
        }
        let reserve: CaptureSpaceReserve
        do throws(CaptureError) {
            reserve = try CaptureSpaceReserve(path: directory + "/.reserve")
        } catch {
            events.close()
            directWrites.stop()
            throw error
        }
        files = CaptureBatchWriter(directory: directory, events: events, directWrites: directWrites, reserve: reserve)
        shared = CaptureEventEncoder(options: options, nextSegmentNumber: { [segmentNumbers] in segmentNumbers.next() })
        do throws(CaptureError) {
            try CaptureFile.replaceAtomically(directory + "/session.json", with: metadata(ended: nil, stats: nil, error: nil).encoded(),
                                              directory: directory)
        } catch {
            _ = files.finish()  // closes events.jsonl and stops the direct-write thread
            throw .cannotCreate(path: directory + "/session.json", reason: "\(error)")
        }

        CaptureThread.start(named: "tapline-capture", finished: finished) { [self] in self.runWriterLoop() }
    }

    /// Encodes and queues one event. Never blocks on I/O; safe from any thread.
    /// Events of one flow must be recorded in order (they are written in queue order).
    public func record(_ event: FlowEvent) {
        condition.lock()
        defer { condition.unlock() }
        guard !closing else { return }
        shared.encode(event)
        countShared()
    }

    /// Encodes and queues several events under one lock acquisition.
    public func record(contentsOf events: [FlowEvent]) {
        guard !events.isEmpty else { return }
        condition.lock()
        defer { condition.unlock() }
        guard !closing else { return }
        for event in events { shared.encode(event) }
        countShared()
    }

    /// Queues an `extension` line: data a producer other than the proxy keeps with the
    /// session (`flow` nil) or with one flow, e.g. the HAR fields of an imported entry
    /// that capture events cannot express. `flow` must have been started by an event
    /// recorded before; readers keep the last value per name. Safe from any thread.
    public func recordExtension(name: String, value: CaptureJSONValue, flow: FlowID?, time: Timestamp) {
        condition.lock()
        defer { condition.unlock() }
        guard !closing else { return }
        shared.encodeExtension(name: name, value: value, flow: flow, time: time)
        countShared()
    }

    /// A sink for one event loop that encodes on that loop (see `CaptureEventStream`).
    public func makeSink() -> any FlowEventSink {
        CaptureEventStream(writer: self, encoder: CaptureEventEncoder(
            options: options, nextSegmentNumber: { [segmentNumbers] in segmentNumbers.next() }))
    }

    /// Queues a batch encoded by a stream; returns emptied buffers for its next batch.
    func submit(_ batch: CaptureBatch) -> SpareBuffers {
        condition.lock()
        defer { condition.unlock() }
        guard !closing else { return SpareBuffers() }
        queue.append(batch)
        accountQueued(batch.cost)
        let spare = SpareBuffers(lines: spareLines.popLast(), bodies: spareBodies.popLast())
        spareBytes -= (spare.lines?.capacity ?? 0) + (spare.bodies?.capacity ?? 0)
        return spare
    }

    /// Counts what `shared` has grown by. Caller holds `condition`.
    private func countShared() {
        let buffered = shared.bufferedBytes
        accountQueued(buffered - sharedCounted)
        sharedCounted = buffered
    }

    /// Accounts newly queued bytes and wakes the writer if it sleeps. Caller holds `condition`.
    private func accountQueued(_ cost: Int) {
        queuedBytes += cost
        if queuedBytes > peakBytes { peakBytes = queuedBytes }
        if !backedUp && queuedBytes > options.highWatermark { backedUp = true }
        if writerIsWaiting {
            writerIsWaiting = false
            condition.signal()
        }
    }

    /// True while more than the high watermark is queued (and until the backlog
    /// has fallen to the low watermark): the proxy should stop reading.
    public var isBackedUp: Bool {
        condition.lock()
        defer { condition.unlock() }
        return backedUp
    }

    /// Runs `callback` once the backlog has drained to the low watermark (on the
    /// writer thread), or at once on the caller's thread when not backed up.
    public func whenDrained(_ callback: @escaping @Sendable () -> Void) {
        condition.lock()
        if backedUp && !closing {
            drainCallbacks.append(callback)
            condition.unlock()
        } else {
            condition.unlock()
            callback()
        }
    }

    /// Writes everything queued, fsyncs, marks the session closed in session.json
    /// (atomically), and stops the writer thread. Idempotent; blocks until done.
    public func close() {
        condition.lock()
        closing = true
        condition.signal()
        condition.unlock()
        finished.wait()
    }

    /// Replaces what session.json records about the proxy (`proxy`) and rewrites it
    /// at once (still `"ended": null`): for what is known only once the proxy listens,
    /// after this writer was made (the ports bound for port 0, extra listeners). After
    /// `close()` the file is left as closed. Safe from any thread.
    ///
    /// - Throws: `CaptureError.cannotCreate` when session.json cannot be rewritten
    ///   (the session keeps the description it was created with).
    public func describeProxy(_ description: [String: String]) throws(CaptureError) {
        metadataLock.lock()
        defer { metadataLock.unlock() }
        guard !metadataIsFinal else { return }
        let previous = proxyDescription
        proxyDescription = description
        do throws(CaptureError) {
            try CaptureFile.replaceAtomically(directory + "/session.json", with: metadata(ended: nil, stats: nil, error: nil).encoded(),
                                              directory: directory)
        } catch {
            proxyDescription = previous
            throw .cannotCreate(path: directory + "/session.json", reason: "\(error)")
        }
    }

    /// The first write error of the session, once `close()` has returned (nil
    /// before, and when every write succeeded): the session is then incomplete,
    /// as its session.json says (`writerError`) if even that could be written.
    public var writeFailure: CaptureError? {
        condition.lock()
        defer { condition.unlock() }
        return firstWriteFailure
    }

    /// The most bytes that were ever queued at once (for tests of the bound).
    var peakQueuedBytes: Int {
        condition.lock()
        defer { condition.unlock() }
        return peakBytes
    }

    /// Tests: stop the writer thread from taking batches (until `release` or `close`),
    /// so a backlog can be built deterministically.
    func holdWriterForTesting(_ hold: Bool) {
        condition.lock()
        heldForTesting = hold
        condition.signal()
        condition.unlock()
    }

    // MARK: - Writer thread

    private func runWriterLoop() {
        while true {
            condition.lock()
            while (queue.isEmpty && shared.isEmpty || heldForTesting) && !closing {
                writerIsWaiting = true
                guard let deadline = files.visibilityDeadline else {
                    condition.wait()
                    continue
                }
                let seconds = ContinuousClock.now.duration(to: deadline).seconds
                if seconds > 0, condition.wait(until: Date(timeIntervalSinceNow: seconds)) { continue }
                // Nothing new came in time: let readers see what is staged.
                writerIsWaiting = false
                condition.unlock()
                files.makeVisible()
                condition.lock()
            }
            writerIsWaiting = false
            if queue.isEmpty && shared.isEmpty && closing {
                condition.unlock()
                break
            }
            if queuedBytes < Self.coalescingBytes && !closing && !backedUp {
                condition.unlock()
                usleep(Self.coalescingMicroseconds)
                condition.lock()
                if heldForTesting && !closing {
                    // Held while we slept: take nothing (tests build a backlog deterministically).
                    condition.unlock()
                    continue
                }
            }
            var none = SpareBuffers()
            if let batch = shared.takeBatch(spare: &none) {
                // Taking it emits the pending body line: count the difference.
                accountQueued(batch.cost - sharedCounted)
                sharedCounted = 0
                queue.append(batch)
            }
            var group = queue
            queue = spareQueue
            condition.unlock()

            var groupBytes = 0
            for batch in group { groupBytes += batch.cost }
            files.write(group)
            files.makeVisibleIfDue()
            var lines: [CaptureByteStorage] = []
            var bodies: [CaptureByteStorage] = []
            lines.reserveCapacity(group.count)  // one allocation each, not a regrowth chain per group
            bodies.reserveCapacity(group.count)
            for batch in group {
                if batch.lines.capacity <= Self.spareCapacityLimit {
                    batch.lines.count = 0
                    lines.append(batch.lines)
                }
                if let storage = batch.bodies, storage.capacity <= Self.spareCapacityLimit {
                    storage.count = 0
                    bodies.append(storage)
                }
            }
            group.removeAll(keepingCapacity: true)
            spareQueue = group
            releaseBacklog(groupBytes, spareLines: lines, spareBodies: bodies)
        }
        var failure = files.finish()
        metadataLock.lock()
        metadataIsFinal = true
        do throws(CaptureError) {
            try CaptureFile.replaceAtomically(directory + "/session.json",
                                              with: metadata(ended: Timestamp.now(), stats: files.stats,
                                                             error: failure?.description).encoded(),
                                              directory: directory)
        } catch {
            CaptureFile.printError("tapline: capture session \(sessionID) was not marked closed: \(error)")
            if failure == nil { failure = error }
        }
        metadataLock.unlock()
        writerLock.release()
        condition.lock()
        firstWriteFailure = failure
        let callbacks = drainCallbacks
        drainCallbacks = []
        backedUp = false
        condition.unlock()
        for callback in callbacks { callback() }
    }

    /// Accounts written bytes, keeps emptied buffers for reuse, and calls the
    /// drain callbacks once at the low watermark.
    private func releaseBacklog(_ bytes: Int, spareLines lines: [CaptureByteStorage], spareBodies bodies: [CaptureByteStorage]) {
        condition.lock()
        queuedBytes -= bytes
        for storage in lines where spareBytes + storage.capacity <= Self.spareBytesLimit {
            spareLines.append(storage)
            spareBytes += storage.capacity
        }
        for buffer in bodies where spareBytes + buffer.capacity <= Self.spareBytesLimit {
            spareBodies.append(buffer)
            spareBytes += buffer.capacity
        }
        var callbacks: [@Sendable () -> Void] = []
        if backedUp && queuedBytes <= options.lowWatermark {
            backedUp = false
            callbacks = drainCallbacks
            drainCallbacks = []
        }
        condition.unlock()
        for callback in callbacks { callback() }
    }

    private func metadata(ended: Timestamp?, stats: SessionStats?, error: String?) -> SessionMetadata {
        SessionMetadata(id: sessionID, started: started, ended: ended, tapline: options.taplineVersion,
                        proxy: proxyDescription, command: options.command,
                        maxBodyBytes: options.maxBodyBytes, stats: stats, writerError: error,
                        mode: options.mode, sourceSession: options.sourceSession)
    }

    /// `mkdir -p` with mode 0700 for the directories it creates.
    private static func makeDirectories(_ path: String) throws(CaptureError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw .cannotCreate(path: path, reason: "it exists and is not a directory") }
            return
        }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty && parent != path { try makeDirectories(parent) }
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw .cannotCreate(path: path, reason: CaptureFile.lastErrorText())
        }
    }
}
