import Glibc

/// A listening TCP socket registered with one event loop. With `reusePort`,
/// several loops each bind their own listener to the same address and the
/// kernel spreads connections between them (SO_REUSEPORT).
///
/// Accepting: on readiness it accepts until EAGAIN (at most 1024 per wakeup, for
/// fairness; level-triggered epoll brings it back). Each accepted socket is
/// non-blocking, close-on-exec, TCP_NODELAY, registered for reading, and handed to
/// `onAccept` — set the connection's delegate there (bytes read while there is no
/// delegate are dropped; they cannot arrive before `onAccept` returns). When the
/// process or system runs out of descriptors (EMFILE/ENFILE/ENOBUFS/ENOMEM) the
/// listener leaves epoll for 100 ms instead of spinning.
///
/// Ownership: the loop retains the listener until `close()` (or the loop stops).
///
/// Thread ownership: confined to `loop`, except `init`, which may run on any
/// thread (binding is synchronous so errors are thrown at once; registration with
/// the loop is then posted to it).
public final class TCPListener {
    public let loop: EventLoop
    /// The bound address; with port 0, the port the kernel chose.
    public let localAddress: SocketAddress

    private var fd: Int32
    private var registrationKey: UInt64 = 0
    private var onAccept: ((TCPConnection) -> Void)?
    private var isClosed = false
    private var inEpoll = false
    private var backoffTimer: LoopTimer?

    private static let backoffMilliseconds = 100
    private static let maxAcceptsPerWakeup = 1024

    /// Binds and listens; `onAccept` runs on the loop for every new connection.
    /// A port of 0 binds a free port (see `localAddress`). Throws `.addressInUse`
    /// when the address is taken (without `reusePort` on both sides).
    public init(loop: EventLoop, address: SocketAddress, reusePort: Bool, backlog: Int32 = 1024,
                onAccept: @escaping (TCPConnection) -> Void) throws(NetError) {
        let fd = try SocketOps.makeTCPSocket(address.family)
        do throws(NetError) {
            try SocketOps.setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1, call: "setsockopt(SO_REUSEADDR)")
            if reusePort {
                try SocketOps.setOption(fd, SOL_SOCKET, SO_REUSEPORT, 1, call: "setsockopt(SO_REUSEPORT)")
            }
            let rc = address.withSockAddr { bind(fd, $0, $1) }
            if rc != 0 {
                let code = errno
                throw code == EADDRINUSE ? NetError.addressInUse(address.description)
                    : NetError.system(call: "bind(\(address))", errno: code)
            }
            guard listen(fd, backlog) == 0 else { throw NetError.system(call: "listen", errno: errno) }
        } catch {
            Glibc.close(fd)
            throw error
        }
        self.loop = loop
        self.fd = fd
        self.localAddress = SocketOps.localAddress(fd) ?? address
        self.onAccept = onAccept
        if loop.inEventLoop {
            register()
        } else {
            let bound = LoopBound(self, loop: loop)
            loop.execute { bound.value.register() }
        }
    }

    deinit {
        if fd >= 0 { Glibc.close(fd) }
    }

    private func register() {
        guard !isClosed else { return }
        registrationKey = loop.register(self, fd: fd)
        startWatching()
    }

    private func startWatching() {
        guard !isClosed, !inEpoll else { return }
        let code = loop.epollControl(LinuxSyscalls.EPOLL_CTL_ADD, fd: fd, events: LinuxSyscalls.EPOLLIN, key: registrationKey)
        inEpoll = code == 0
        if code != 0 { backOff() }
    }

    private func backOff() {
        if inEpoll {
            _ = loop.epollControl(LinuxSyscalls.EPOLL_CTL_DEL, fd: fd, events: 0, key: registrationKey)
            inEpoll = false
        }
        guard backoffTimer == nil else { return }
        backoffTimer = loop.scheduleTimer(milliseconds: Self.backoffMilliseconds) { [weak self] in
            guard let self else { return }
            self.backoffTimer = nil
            self.startWatching()
        }
    }

    /// Stops accepting; already accepted connections are unaffected. Loop thread only.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        backoffTimer?.cancel()
        backoffTimer = nil
        onAccept = nil
        loop.unregister(fd: fd, key: registrationKey)
        Glibc.close(fd)
        fd = -1
        inEpoll = false
    }
}

extension TCPListener: EpollHandler {
    func handleEvents(_ events: UInt32) {
        var accepted = 0
        while !isClosed && accepted < Self.maxAcceptsPerWakeup {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let clientFD = withUnsafeMutablePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { LinuxSyscalls.accept4(fd, $0, &length) }
            }
            if clientFD < 0 {
                switch errno {
                case EINTR, ECONNABORTED, EPROTO, EPERM:
                    continue  // that one connection is gone; try the next
                case EAGAIN, EWOULDBLOCK:
                    return
                default:
                    backOff()  // EMFILE, ENFILE, ENOBUFS, ENOMEM, or something unexpected
                    return
                }
            }
            accepted += 1
            SocketOps.setNoDelay(clientFD)
            let remote = withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress($0) }
            } ?? .unspecified(localAddress.family)
            let local = SocketOps.localAddress(clientFD) ?? localAddress
            let connection = TCPConnection.accepted(loop: loop, fd: clientFD, local: local, remote: remote)
            onAccept?(connection)
        }
    }

    func loopIsStopping() {
        close()
    }
}
