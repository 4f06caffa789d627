import Glibc

/// One epoll event loop running on its own thread.
///
/// Design:
/// - **Level-triggered epoll.** Interest is toggled with `EPOLL_CTL_MOD` when a
///   connection pauses/resumes reading or starts/stops waiting for writability;
///   a paused connection keeps only `EPOLLRDHUP` until its peer's FIN has been
///   reported (`TCPConnection`), and a registration with no interest left is
///   removed from epoll altogether (so an `EPOLLHUP` on a paused socket cannot
///   spin the loop).
/// - Registered fds live in a table indexed by fd; each registration gets a key
///   `(generation << 32) | fd` stored as the epoll user data, so a stale event for
///   a closed-and-reused fd in the same `epoll_wait` batch is ignored.
/// - Cross-thread `execute` appends to a mutex-guarded queue and wakes the loop
///   through an `eventfd` (at most one write per wakeup). `execute` from the loop
///   thread itself takes a lock-free local queue.
/// - Timers: a min-heap; its earliest deadline is the `epoll_wait` timeout.
/// - Writes are flushed after each handled event (once the handler has returned),
///   and at the end of each phase of an iteration (after timers, after tasks), so
///   several `write`s in one callback become one `send`, yet bytes one socket's
///   input produced leave before the next socket of the same `epoll_wait` batch is
///   handled: the peer starts on them while this loop works through the rest (a
///   proxy's hops overlap instead of waiting for the whole batch). Close notifications are delivered at the end of each phase, so no
///   delegate callback is ever re-entered from `close()`.
///
/// Ownership: the loop retains every registered listener and connection until it
/// is closed, and a closed connection until its `didCloseWith` has been delivered.
///
/// Thread ownership: everything registered with a loop (connections, listeners,
/// timers) is confined to the loop's thread and must only be touched from it.
/// The only thread-safe entry points are `execute(_:)`, `inEventLoop` and `stop()`.
public final class EventLoop: @unchecked Sendable {
    /// The loop's position in its group (0-based); also in its thread's name.
    public let index: Int

    // MARK: Immutable after init (any thread)
    private let epollFD: Int32
    private let wakeFD: Int32
    private static let wakeKey: UInt64 = 0
    private static let maxEvents = 256

    // MARK: Guarded by `lock`
    private let lock = PthreadMutex()
    private var remoteTasks: [@Sendable () -> Void] = []
    private var wakeupPending = false
    private var stopRequested = false
    private var acceptsTasks = true
    private var joinHandle: pthread_t?

    /// Written once by the loop thread before `start()` returns; read-only afterwards.
    private var threadID: pthread_t = 0

    // MARK: Loop-confined
    private struct Registration {
        var key: UInt64 = 0
        var handler: (any EpollHandler)?
    }
    private var registrations: [Registration] = []
    private var generation: UInt32 = 0
    private var timers = TimerHeap()
    private var timerSequence: UInt64 = 0
    private var cancelledTimers = 0
    private var localTasks: [() -> Void] = []
    private var spareLocalTasks: [() -> Void] = []
    private var spareRemoteTasks: [@Sendable () -> Void] = []
    private var flushList: [TCPConnection] = []
    private var spareFlushList: [TCPConnection] = []
    private var closeList: [TCPConnection] = []
    private var spareCloseList: [TCPConnection] = []
    private let events: UnsafeMutableRawPointer
    /// The shared read buffer of every connection on this loop (reads never nest).
    var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)

    init(index: Int) throws(NetError) {
        self.index = index
        let ep = LinuxSyscalls.epollCreate()
        guard ep >= 0 else { throw NetError.system(call: "epoll_create1", errno: errno) }
        let wake = LinuxSyscalls.eventFD()
        guard wake >= 0 else {
            let e = errno
            Glibc.close(ep)
            throw NetError.system(call: "eventfd", errno: e)
        }
        guard LinuxSyscalls.epollControl(ep, LinuxSyscalls.EPOLL_CTL_ADD, wake,
                                         events: LinuxSyscalls.EPOLLIN, key: Self.wakeKey) == 0 else {
            let e = errno
            Glibc.close(ep)
            Glibc.close(wake)
            throw NetError.system(call: "epoll_ctl(eventfd)", errno: e)
        }
        guard let buffer = LinuxSyscalls.allocateEventBuffer(maxEvents: Self.maxEvents) else {
            Glibc.close(ep)
            Glibc.close(wake)
            throw NetError.system(call: "calloc(epoll events)", errno: ENOMEM)
        }
        epollFD = ep
        wakeFD = wake
        events = buffer
    }

    deinit {
        Glibc.close(epollFD)
        Glibc.close(wakeFD)
        LinuxSyscalls.freeEventBuffer(events)
    }

    // MARK: - Thread-safe API

    /// True when called on this loop's thread.
    public var inEventLoop: Bool { pthread_equal(pthread_self(), threadID) != 0 }

    /// Runs `task` on the loop's thread, soon (FIFO per calling thread). Callable
    /// from any thread. Tasks submitted after the loop stopped are dropped.
    public func execute(_ task: @escaping @Sendable () -> Void) {
        if inEventLoop {
            localTasks.append(task)
            return
        }
        lock.lock()
        guard acceptsTasks else {
            lock.unlock()
            return
        }
        remoteTasks.append(task)
        let mustWake = !wakeupPending
        wakeupPending = true
        lock.unlock()
        if mustWake { wake() }
    }

    /// Asks the loop to stop after its current iteration: every registered
    /// listener and connection is closed (connections report
    /// `didCloseWith(.closed)`, pending connects fail with `.closed`), queued tasks
    /// run once more, then the thread ends. Idempotent; does not wait
    /// (`EventLoopGroup.shutdown()` joins).
    public func stop() {
        lock.lock()
        stopRequested = true
        let mustWake = !wakeupPending
        wakeupPending = true
        lock.unlock()
        if mustWake { wake() }
    }

    private func wake() {
        var one: UInt64 = 1
        _ = withUnsafeBytes(of: &one) { Glibc.write(wakeFD, $0.baseAddress, 8) }
    }

    // MARK: - Loop-thread API

    /// Calls `callback` on the loop's thread after `milliseconds` (0 or less: on
    /// the next iteration). Loop thread only. Same-deadline timers fire in
    /// scheduling order.
    @discardableResult
    public func scheduleTimer(milliseconds: Int, _ callback: @escaping () -> Void) -> LoopTimer {
        precondition(inEventLoop, "EventLoop.scheduleTimer called off the loop's thread")
        let timer = LoopTimer(loop: self, callback: callback)
        let delay = UInt64(max(0, min(milliseconds, Int(Int32.max)))) &* 1_000_000
        timerSequence &+= 1
        timers.push(.init(deadline: LinuxSyscalls.monotonicNanoseconds() &+ delay,
                          sequence: timerSequence, timer: timer))
        return timer
    }

    /// Bookkeeping for lazy deletion: rebuild the heap when most of it is dead.
    func timerWasCancelled() {
        cancelledTimers += 1
        if cancelledTimers > 1024 && cancelledTimers * 2 > timers.count {
            timers.removeNonPending()
            cancelledTimers = 0
        }
    }

    /// Runs `task` later on this loop without locking (loop thread only).
    func executeLocal(_ task: @escaping () -> Void) {
        localTasks.append(task)
    }

    // MARK: Registrations

    /// Adds `handler` for `fd` to the table (not yet to epoll); returns its key.
    func register(_ handler: any EpollHandler, fd: Int32) -> UInt64 {
        let slot = Int(fd)
        if slot >= registrations.count {
            registrations.append(contentsOf: repeatElement(Registration(),
                                                           count: max(slot + 1, registrations.count * 2) - registrations.count))
        }
        generation &+= 1
        if generation == 0 { generation = 1 }
        let key = (UInt64(generation) << 32) | UInt64(UInt32(bitPattern: fd))
        registrations[slot] = Registration(key: key, handler: handler)
        return key
    }

    /// Removes the table entry for `key` (the fd itself is closed by the caller;
    /// closing an fd also removes it from epoll).
    func unregister(fd: Int32, key: UInt64) {
        let slot = Int(fd)
        guard slot >= 0, slot < registrations.count, registrations[slot].key == key else { return }
        registrations[slot] = Registration()
    }

    /// `epoll_ctl`; returns errno on failure, 0 on success.
    func epollControl(_ op: Int32, fd: Int32, events: UInt32, key: UInt64) -> Int32 {
        LinuxSyscalls.epollControl(epollFD, op, fd, events: events, key: key) == 0 ? 0 : errno
    }

    /// Queues `connection` to be flushed once the current event's handler returns (or
    /// at the end of the current phase).
    func scheduleFlush(_ connection: TCPConnection) {
        flushList.append(connection)
    }

    /// Queues `connection`'s `didCloseWith` for the end of the current phase.
    func scheduleCloseNotification(_ connection: TCPConnection) {
        closeList.append(connection)
    }

    // MARK: - Thread

    /// Starts the loop's thread and waits until it runs.
    func start() throws(NetError) {
        let ready = PosixSemaphore()
        let context = Unmanaged.passRetained(StartContext(loop: self, ready: ready))
        var handle = pthread_t()
        let rc = pthread_create(&handle, nil, { raw in
            let context = Unmanaged<StartContext>.fromOpaque(raw!).takeRetainedValue()
            context.loop.run(ready: context.ready)
            return nil
        }, context.toOpaque())
        guard rc == 0 else {
            context.release()
            throw NetError.system(call: "pthread_create", errno: rc)
        }
        ready.wait()
        lock.withLock { joinHandle = handle }
    }

    /// Waits for the loop's thread to end (after `stop()`). Idempotent; a no-op
    /// when called on the loop's own thread.
    func join() {
        guard !inEventLoop else { return }
        let handle: pthread_t? = lock.withLock {
            defer { joinHandle = nil }
            return joinHandle
        }
        if let handle { pthread_join(handle, nil) }
    }

    private final class StartContext {
        let loop: EventLoop
        let ready: PosixSemaphore
        init(loop: EventLoop, ready: PosixSemaphore) {
            self.loop = loop
            self.ready = ready
        }
    }

    private func run(ready: PosixSemaphore) {
        threadID = pthread_self()
        LinuxSyscalls.setCurrentThreadName("tapline-loop-\(index)")
        ready.signal()

        while true {
            runPendingWork()
            let n = LinuxSyscalls.epollWait(epollFD, events, Int32(Self.maxEvents), computeTimeout())
            if n < 0 {
                if errno == EINTR { continue }
                break  // EBADF/EINVAL: the epoll fd is unusable; stop rather than spin.
            }
            if n > 0 {
                dispatchEvents(count: Int(n))
                runPendingWork()
            }
            runExpiredTimers()
            runPendingWork()
            if runRemoteTasks() { break }
        }
        shutDownRegistrations()
    }

    private func dispatchEvents(count: Int) {
        for i in 0..<count {
            let (bits, key) = LinuxSyscalls.event(at: i, in: events)
            if key == Self.wakeKey {
                var value: UInt64 = 0
                _ = withUnsafeMutableBytes(of: &value) { Glibc.read(wakeFD, $0.baseAddress, 8) }
                continue
            }
            let slot = Int(UInt32(truncatingIfNeeded: key))
            guard slot < registrations.count else { continue }
            let registration = registrations[slot]
            guard registration.key == key, let handler = registration.handler else { continue }
            handler.handleEvents(bits)
            if !flushList.isEmpty { flushScheduledConnections() }
        }
    }

    private func computeTimeout() -> Int32 {
        if !localTasks.isEmpty || !flushList.isEmpty || !closeList.isEmpty { return 0 }
        guard let next = timers.first else { return -1 }
        let now = LinuxSyscalls.monotonicNanoseconds()
        guard next.deadline > now else { return 0 }
        let ms = (next.deadline - now + 999_999) / 1_000_000
        return Int32(min(ms, UInt64(Int32.max)))
    }

    /// Flushes, delivers close notifications and runs local tasks until nothing
    /// is left (bounded, so a task re-posting itself cannot starve I/O).
    private func runPendingWork() {
        var rounds = 0
        while rounds < 16 && (!flushList.isEmpty || !closeList.isEmpty || !localTasks.isEmpty) {
            rounds += 1
            if !flushList.isEmpty { flushScheduledConnections() }
            if !closeList.isEmpty {
                swap(&closeList, &spareCloseList)
                for connection in spareCloseList { connection.deliverCloseNotification() }
                spareCloseList.removeAll(keepingCapacity: true)
            }
            if !localTasks.isEmpty {
                swap(&localTasks, &spareLocalTasks)
                for task in spareLocalTasks { task() }
                spareLocalTasks.removeAll(keepingCapacity: true)
            }
        }
    }

    /// Sends what the connections written to since the last flush have queued (a flush
    /// may schedule more, for the next call).
    private func flushScheduledConnections() {
        swap(&flushList, &spareFlushList)
        for connection in spareFlushList { connection.flushIfScheduled() }
        spareFlushList.removeAll(keepingCapacity: true)
    }

    private func runExpiredTimers() {
        guard !timers.isEmpty else { return }
        let now = LinuxSyscalls.monotonicNanoseconds()
        let lastSequence = timerSequence  // timers scheduled by callbacks wait for the next iteration
        while let next = timers.first, next.deadline <= now, next.sequence <= lastSequence {
            _ = timers.popFirst()
            if next.timer.isPending {
                next.timer.fire()
            } else if cancelledTimers > 0 {
                cancelledTimers -= 1
            }
        }
    }

    /// Runs the cross-thread tasks; returns true when the loop should stop.
    private func runRemoteTasks() -> Bool {
        lock.lock()
        swap(&remoteTasks, &spareRemoteTasks)
        wakeupPending = false
        let stop = stopRequested
        lock.unlock()
        for task in spareRemoteTasks { task() }
        spareRemoteTasks.removeAll(keepingCapacity: true)
        return stop
    }

    private func shutDownRegistrations() {
        for registration in registrations {
            registration.handler?.loopIsStopping()
        }
        registrations.removeAll()
        runPendingWork()
        lock.lock()
        acceptsTasks = false
        swap(&remoteTasks, &spareRemoteTasks)
        lock.unlock()
        for task in spareRemoteTasks { task() }
        spareRemoteTasks.removeAll()
        runPendingWork()
        localTasks.removeAll()
        flushList.removeAll()
        closeList.removeAll()
        timers.removeAll()
    }
}
