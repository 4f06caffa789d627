import Glibc

/// A connected non-blocking TCP socket on one event loop, with a write buffer.
///
/// Writes never block and never fail synchronously: bytes are queued and
/// flushed as the socket allows, normally when the current callback's event has been
/// handled (so several writes from one callback leave in one `send`).
///
/// Watermarks: when a `write` brings the queue to `highWatermark` bytes or more,
/// the connection first tries to send right away; if the kernel does not take
/// enough, `isWritable` turns false *inside that `write`* and
/// `writabilityChanged(false)` is called synchronously, before `write` returns (so
/// `write(x); if !isWritable { other.pauseReading() }` works). Once a flush brings
/// the queue down to `lowWatermark` bytes or fewer, `isWritable` turns true and
/// `writabilityChanged(true)` follows (from the loop, never from inside a call).
///
/// Lifecycle: open → (read EOF and/or write shut down) → closed. `didCloseWith` is
/// delivered exactly once: after `close()`, `closeAfterFlush()` drained, an error,
/// the loop stopping (`.closed`), or both halves finished (peer EOF seen and our
/// FIN sent after `shutdownWrite()`). It is never called from inside `close()` or
/// any other method: it arrives after the current callback returns, on the same
/// loop iteration. Once closed, every method is a harmless no-op and no other
/// delegate callback follows.
///
/// Paused reading still watches for the peer's hang-up: a paused socket stays in
/// epoll for `EPOLLRDHUP` alone, and the first FIN that arrives while paused is
/// reported once through `connectionPeerHungUpWhilePaused` (bytes sent before it
/// stay unread; they and `connectionDidReadEOF` follow once reading resumes). So
/// a proxy that stops reading a client while its request is in flight still
/// learns that the client left. A reset is reported the same way: the bytes that
/// arrived before it stay readable, and the reset closes the connection once
/// reading reaches it (unless a write meets it first), as before.
///
/// Reentrancy: the delegate may call any method (write, pause, close…) from any
/// callback; the connection re-checks its state after every callback.
///
/// Ownership: the loop retains the connection while its fd is open and until
/// `didCloseWith` has been delivered; an owner that drops its reference without
/// closing leaks the socket until the peer goes away. `delegate` is held strongly
/// until `didCloseWith` has been delivered, then dropped: the delegate lives at
/// least as long as the open socket, and the cycle a delegate that owns its
/// connection forms ends with the close. (A weak reference cost more than that
/// suggests: every object referenced weakly keeps its reference counts in a side
/// table, and each retain of it anywhere takes the runtime's slow path.) A
/// delegate that is replaced before the close hears `connectionWasHandedOver`
/// instead, so it can let go of whatever it holds in turn. With no delegate, read
/// bytes are dropped.
///
/// Thread ownership: confined to `loop`.
public final class TCPConnection {
    public let loop: EventLoop
    public var delegate: (any TCPConnectionDelegate)? {
        get { currentDelegate }
        set {
            let previous = currentDelegate
            currentDelegate = newValue
            if let previous, previous !== newValue { previous.connectionWasHandedOver(self) }
        }
    }
    private var currentDelegate: (any TCPConnectionDelegate)?
    public let localAddress: SocketAddress
    public let remoteAddress: SocketAddress
    public var highWatermark: Int = 256 * 1024
    public var lowWatermark: Int = 64 * 1024

    private enum State { case connecting, open, closed }

    private var state: State
    private var fd: Int32
    private var registrationKey: UInt64 = 0
    private var interest: UInt32 = 0
    private var inEpoll = false

    private var queue = ByteChunkQueue()
    private var queuedBytes = 0
    private var writable = true
    private var flushScheduled = false
    /// A `send` hit EAGAIN: wait for EPOLLOUT instead of flushing at phase end.
    private var waitingForWritable = false

    private var readPaused = false
    private var readEOF = false
    /// The peer's FIN was reported while reading was paused: stop watching for it
    /// (level-triggered `EPOLLRDHUP` would report it on every `epoll_wait`).
    private var pausedHangUpReported = false
    private var shutdownWriteRequested = false
    private var writeShutDown = false
    private var closeAfterFlushRequested = false
    private var closeError: NetError?

    private var connectCompletion: ((Result<TCPConnection, NetError>) -> Void)?
    private var connectTimer: LoopTimer?

    private var readCount: UInt64 = 0
    private var writeCount: UInt64 = 0

    private init(loop: EventLoop, fd: Int32, local: SocketAddress, remote: SocketAddress, connecting: Bool) {
        self.loop = loop
        self.fd = fd
        self.localAddress = local
        self.remoteAddress = remote
        self.state = connecting ? .connecting : .open
    }

    deinit {
        if fd >= 0 { Glibc.close(fd) }
    }

    /// Wraps an accepted socket and registers it for reading (listener only).
    static func accepted(loop: EventLoop, fd: Int32, local: SocketAddress, remote: SocketAddress) -> TCPConnection {
        let connection = TCPConnection(loop: loop, fd: fd, local: local, remote: remote, connecting: false)
        connection.registrationKey = loop.register(connection, fd: fd)
        connection.updateInterest()
        return connection
    }

    // MARK: - Connect

    /// Connects to `address` without blocking; `completion` runs on `loop`, always
    /// later (never from inside this call), exactly once. Fails with
    /// `.connectionRefused`, `.connectTimeout` after `timeoutMilliseconds` (0 or
    /// less: no timeout of ours), `.closed` if the loop stops, or `.system`.
    /// Loop thread only.
    public static func connect(loop: EventLoop, to address: SocketAddress, timeoutMilliseconds: Int,
                               completion: @escaping (Result<TCPConnection, NetError>) -> Void) {
        precondition(loop.inEventLoop, "TCPConnection.connect called off the loop's thread")
        let fd: Int32
        do {
            fd = try SocketOps.makeTCPSocket(address.family)
        } catch {
            loop.executeLocal { completion(.failure(error)) }
            return
        }
        SocketOps.setNoDelay(fd)
        var rc: Int32
        repeat {
            rc = address.withSockAddr { Glibc.connect(fd, $0, $1) }
        } while rc != 0 && errno == EINTR
        if rc != 0 && errno != EINPROGRESS {
            let error = Self.connectError(errno, address)
            Glibc.close(fd)
            loop.executeLocal { completion(.failure(error)) }
            return
        }
        let local = SocketOps.localAddress(fd) ?? .unspecified(address.family)
        let connection = TCPConnection(loop: loop, fd: fd, local: local, remote: address, connecting: true)
        connection.connectCompletion = completion
        connection.registrationKey = loop.register(connection, fd: fd)
        connection.updateInterest()  // EPOLLOUT reports completion, even when already connected
        if timeoutMilliseconds > 0 {
            connection.connectTimer = loop.scheduleTimer(milliseconds: timeoutMilliseconds) {
                connection.failConnect(.connectTimeout(address.description))
            }
        }
    }

    private static func connectError(_ code: Int32, _ address: SocketAddress) -> NetError {
        switch code {
        case ECONNREFUSED: return .connectionRefused(address.description)
        case ETIMEDOUT: return .connectTimeout(address.description)
        default: return .system(call: "connect(\(address))", errno: code)
        }
    }

    private func finishConnect() {
        let code = SocketOps.pendingError(fd)
        if code == EINPROGRESS || code == EALREADY { return }
        if code != 0 {
            failConnect(Self.connectError(code, remoteAddress))
            return
        }
        state = .open
        connectTimer?.cancel()
        connectTimer = nil
        let completion = connectCompletion
        connectCompletion = nil
        updateInterest()
        completion?(.success(self))
    }

    private func failConnect(_ error: NetError) {
        guard state == .connecting else { return }
        state = .closed
        connectTimer?.cancel()
        connectTimer = nil
        releaseSocket()
        let completion = connectCompletion
        connectCompletion = nil
        completion?(.failure(error))
    }

    /// Where the client meant to connect before the kernel redirected the connection
    /// to us (nftables/iptables `redirect`): `SO_ORIGINAL_DST`, IPv4 or IPv6. Nil when
    /// it was not redirected or the socket is closed. On the loop.
    public func originalDestination() -> SocketAddress? {
        guard fd >= 0 else { return nil }
        return LinuxSyscalls.originalDestination(fd)
    }

    // MARK: - Writing

    /// Bytes queued but not yet written to the socket.
    public var bufferedWriteBytes: Int { queuedBytes }

    /// False from the `write` that crossed `highWatermark` (see the type's doc)
    /// until a flush drained the queue to `lowWatermark`; always agrees with the
    /// last `writabilityChanged`.
    public var isWritable: Bool { writable }

    /// Queues bytes for writing (copied). Ignored once closed or after
    /// `shutdownWrite()` / `closeAfterFlush()`.
    public func write(_ bytes: some Collection<UInt8>) {
        guard acceptsWrites, !bytes.isEmpty else { return }
        let copied: Void? = bytes.withContiguousStorageIfAvailable { write(copying: $0) }
        if copied == nil {
            Array(bytes).withUnsafeBufferPointer { write(copying: $0) }
        }
    }

    /// Queues the bytes at `bytes` (copied before it returns), as `write` does, without
    /// going through a generic collection (for bytes built in a temporary buffer).
    public func write(copying bytes: UnsafeBufferPointer<UInt8>) {
        guard acceptsWrites, !bytes.isEmpty else { return }
        queue.append(bytes)
        didQueue(bytes.count)
    }

    /// Queues an array; large arrays are kept as they are (no copy).
    public func write(_ bytes: [UInt8]) {
        guard acceptsWrites, !bytes.isEmpty else { return }
        queue.append(bytes)
        didQueue(bytes.count)
    }

    private var acceptsWrites: Bool {
        state == .open && !shutdownWriteRequested && !closeAfterFlushRequested
    }

    private func didQueue(_ count: Int) {
        queuedBytes += count
        if queuedBytes >= highWatermark {
            if !waitingForWritable {
                guard sendQueued() else { return }
                updateInterest()
                guard state == .open else { return }
            }
            if writable && queuedBytes >= highWatermark {
                writable = false
                delegate?.connection(self, writabilityChanged: false)
                guard state == .open else { return }
            }
        }
        scheduleFlush()
    }

    private func scheduleFlush() {
        guard !flushScheduled, !waitingForWritable, state == .open else { return }
        flushScheduled = true
        loop.scheduleFlush(self)
    }

    /// Called by the loop at the end of a phase.
    func flushIfScheduled() {
        guard flushScheduled else { return }
        flushScheduled = false
        flush()
    }

    /// Sends queued bytes until the queue is empty or the socket is full, and
    /// sets `waitingForWritable` accordingly (the caller updates epoll interest).
    /// Returns false if the connection failed and is now closed.
    private func sendQueued() -> Bool {
        while !queue.isEmpty {
            let result = queue.withFirstChunk { chunk -> (written: Int, wanted: Int) in
                (Glibc.send(fd, chunk.baseAddress, chunk.count, Int32(MSG_NOSIGNAL)), chunk.count)
            }
            if result.written >= 0 {
                queue.consume(result.written)
                queuedBytes -= result.written
                writeCount &+= UInt64(result.written)
                if result.written < result.wanted { break }  // socket buffer full
                continue
            }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { break }
            fail(code == EPIPE || code == ECONNRESET ? .connectionReset : .system(call: "send", errno: code))
            return false
        }
        waitingForWritable = !queue.isEmpty
        return true
    }

    /// Sends as much as the socket takes, then performs requested shutdowns and
    /// reports writability changes.
    private func flush() {
        guard state == .open, sendQueued() else { return }
        if queue.isEmpty {
            if closeAfterFlushRequested {
                closeNow(error: nil)
                return
            }
            if shutdownWriteRequested && !writeShutDown {
                writeShutDown = true
                if Glibc.shutdown(fd, Int32(SHUT_WR)) != 0 && errno != ENOTCONN {
                    fail(.system(call: "shutdown", errno: errno))
                    return
                }
                if readEOF {
                    closeNow(error: nil)
                    return
                }
            }
        }
        updateInterest()
        guard state == .open else { return }
        if !writable && queuedBytes <= lowWatermark {
            writable = true
            delegate?.connection(self, writabilityChanged: true)
        } else if writable && queuedBytes >= highWatermark {
            writable = false
            delegate?.connection(self, writabilityChanged: false)
        }
    }

    // MARK: - Reading

    /// Stops / resumes delivering `didRead` (and reading the socket at all).
    /// Both work from inside `didRead`: no further `didRead` follows a pause.
    /// While paused, the peer's hang-up is still reported (see the type's doc).
    public func pauseReading() {
        guard !readPaused else { return }
        readPaused = true
        updateInterest()
    }

    public func resumeReading() {
        guard readPaused else { return }
        readPaused = false
        updateInterest()
    }

    public var isReadingPaused: Bool { readPaused }

    private func handleReadable() {
        var rounds = 0
        while state == .open && !readPaused && !readEOF && rounds < 4 {
            rounds += 1
            let capacity = loop.readBuffer.count
            let n = loop.readBuffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, capacity) }
            if n > 0 {
                readCount &+= UInt64(n)
                if let delegate {
                    delegate.connection(self, didRead: loop.readBuffer[0..<n])
                }
                if n < capacity { return }
                continue
            }
            if n == 0 {
                readEOF = true
                updateInterest()
                delegate?.connectionDidReadEOF(self)
                if state == .open && writeShutDown && queue.isEmpty { closeNow(error: nil) }
                return
            }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { return }
            fail(code == ECONNRESET ? .connectionReset : .system(call: "read", errno: code))
            return
        }
    }

    // MARK: - Closing

    /// Half-close: sends FIN once the write buffer has drained. Later writes are ignored.
    public func shutdownWrite() {
        guard state == .open, !shutdownWriteRequested else { return }
        shutdownWriteRequested = true
        scheduleFlush()
    }

    /// Closes now, discarding unwritten bytes (RST is not forced).
    /// `didCloseWith(nil)` follows after the current callback.
    public func close() {
        if state == .connecting {
            failConnect(.closed)
        } else {
            closeNow(error: nil)
        }
    }

    /// Closes once the write buffer has drained. Later writes are ignored.
    public func closeAfterFlush() {
        guard state == .open, !closeAfterFlushRequested else { return }
        closeAfterFlushRequested = true
        scheduleFlush()
    }

    /// True once closed (even if `didCloseWith` has not been delivered yet).
    public var isClosed: Bool { state == .closed }

    private func fail(_ error: NetError) {
        closeNow(error: error)
    }

    private func closeNow(error: NetError?) {
        guard state == .open else { return }
        state = .closed
        closeError = error
        releaseSocket()
        queue.removeAll()
        queuedBytes = 0
        loop.scheduleCloseNotification(self)
    }

    /// Unregisters and closes the fd (closing also removes it from epoll).
    private func releaseSocket() {
        guard fd >= 0 else { return }
        loop.unregister(fd: fd, key: registrationKey)
        Glibc.close(fd)
        fd = -1
        inEpoll = false
        interest = 0
    }

    /// Called by the loop after the phase in which the connection closed.
    func deliverCloseNotification() {
        let delegate = currentDelegate
        currentDelegate = nil
        delegate?.connection(self, didCloseWith: closeError)
    }

    /// Total bytes read from / written to the socket.
    public var bytesRead: UInt64 { readCount }
    public var bytesWritten: UInt64 { writeCount }

    // MARK: - epoll interest

    private func updateInterest() {
        var wanted: UInt32 = 0
        switch state {
        case .connecting:
            wanted = LinuxSyscalls.EPOLLOUT
        case .open:
            if !readEOF {
                if !readPaused {
                    wanted |= LinuxSyscalls.EPOLLIN
                } else if !pausedHangUpReported {
                    wanted |= LinuxSyscalls.EPOLLRDHUP
                }
            }
            if waitingForWritable { wanted |= LinuxSyscalls.EPOLLOUT }
        case .closed:
            return
        }
        if wanted == interest && inEpoll == (wanted != 0) { return }
        let code: Int32
        if wanted == 0 {
            code = loop.epollControl(LinuxSyscalls.EPOLL_CTL_DEL, fd: fd, events: 0, key: registrationKey)
            inEpoll = false
        } else if inEpoll {
            code = loop.epollControl(LinuxSyscalls.EPOLL_CTL_MOD, fd: fd, events: wanted, key: registrationKey)
        } else {
            code = loop.epollControl(LinuxSyscalls.EPOLL_CTL_ADD, fd: fd, events: wanted, key: registrationKey)
            inEpoll = code == 0
        }
        interest = wanted
        if code != 0 && wanted != 0 {
            let error = NetError.system(call: "epoll_ctl", errno: code)
            if state == .connecting { failConnect(error) } else { fail(error) }
        }
    }
}

extension TCPConnection: EpollHandler {
    func handleEvents(_ events: UInt32) {
        switch state {
        case .connecting:
            finishConnect()
        case .open:
            let problem = LinuxSyscalls.EPOLLERR | LinuxSyscalls.EPOLLHUP
            let watchingHangUp = interest & LinuxSyscalls.EPOLLRDHUP != 0
            if events & (LinuxSyscalls.EPOLLIN | problem) != 0 && interest & LinuxSyscalls.EPOLLIN != 0 {
                handleReadable()
            }
            if state == .open && waitingForWritable && events & (LinuxSyscalls.EPOLLOUT | problem) != 0 {
                waitingForWritable = false
                flush()
            }
            if state == .open && watchingHangUp && events & (LinuxSyscalls.EPOLLRDHUP | problem) != 0 {
                // A reset too: what arrived before it stays readable, and reading it
                // after `resumeReading()` ends in the reset, as it would have anyway.
                reportHangUpWhilePaused()
            } else if state == .open && events & LinuxSyscalls.EPOLLERR != 0 {
                // An error nobody consumed (neither reading nor writing right now).
                let code = SocketOps.pendingError(fd)
                if code != 0 { fail(code == ECONNRESET || code == EPIPE ? .connectionReset : .system(call: "socket", errno: code)) }
            }
        case .closed:
            break
        }
    }

    /// The peer's FIN (or a reset) arrived while reading is paused: said once, then
    /// no longer watched.
    private func reportHangUpWhilePaused() {
        pausedHangUpReported = true
        updateInterest()
        guard state == .open else { return }
        delegate?.connectionPeerHungUpWhilePaused(self)
    }

    func loopIsStopping() {
        switch state {
        case .connecting: failConnect(.closed)
        case .open: closeNow(error: .closed)
        case .closed: break
        }
    }
}
