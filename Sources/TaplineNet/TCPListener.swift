import Glibc

/// A listening TCP socket registered with one event loop. Accepted connections
/// either stay on that loop or, made with `init(distributingTo:…)`, go to a set
/// of loops in turn (round-robin): ten connections over two loops are five and
/// five, where listeners sharing a port (SO_REUSEPORT) leave the split to the
/// kernel's hash of the addresses — for ten long-lived connections 7/3 or worse a
/// third of the time, and one loop works while the other idles.
///
/// Accepting: on readiness it accepts until EAGAIN (at most 1024 per wakeup, for
/// fairness; level-triggered epoll brings it back). Each accepted socket is
/// non-blocking, close-on-exec, TCP_NODELAY, registered for reading, and handed to
/// `onAccept` on the loop that owns it — set the connection's delegate there
/// (bytes read while there is no delegate are dropped; they cannot arrive before
/// `onAccept` returns). A connection handed to another loop travels as an
/// `AcceptedSocket` through that loop's task queue and is registered there.
/// When the process or system runs out of descriptors (EMFILE/ENFILE/ENOBUFS/
/// ENOMEM) the listener leaves epoll for 100 ms instead of spinning.
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
    /// Runs on this listener's loop for the connections it keeps.
    private var onAccept: ((TCPConnection) -> Void)?
    /// Runs on the other loops for the connections handed to them.
    private var onAcceptElsewhere: (@Sendable (TCPConnection) -> Void)?
    /// The loops that take turns owning accepted connections (just `loop` when
    /// connections stay here), and whose turn is next.
    private let targets: [EventLoop]
    private var nextTarget = 0
    private var isClosed = false
    private var inEpoll = false
    private var backoffTimer: LoopTimer?

    private static let backoffMilliseconds = 100
    private static let maxAcceptsPerWakeup = 1024

    /// Binds and listens; `onAccept` runs on the loop for every new connection.
    /// A port of 0 binds a free port (see `localAddress`). Throws `.addressInUse`
    /// when the address is taken.
    public convenience init(loop: EventLoop, address: SocketAddress, backlog: Int32 = 1024,
                            onAccept: @escaping (TCPConnection) -> Void) throws(NetError) {
        try self.init(loop: loop, targets: [loop], address: address, backlog: backlog,
                      onAccept: onAccept, onAcceptElsewhere: nil)
    }

    /// Binds and listens on `loops[0]`; accepted connections go to `loops` in
    /// turn, and `onAccept` runs on the loop of each one. Throws `.addressInUse`
    /// when the address is taken.
    public convenience init(distributingTo loops: [EventLoop], address: SocketAddress, backlog: Int32 = 1024,
                            onAccept: @escaping @Sendable (TCPConnection) -> Void) throws(NetError) {
        precondition(!loops.isEmpty, "TCPListener needs at least one loop to hand connections to")
        try self.init(loop: loops[0], targets: loops, address: address, backlog: backlog,
                      onAccept: onAccept, onAcceptElsewhere: onAccept)
    }

    private init(loop: EventLoop, targets: [EventLoop], address: SocketAddress, backlog: Int32,
                 onAccept: @escaping (TCPConnection) -> Void,
                 onAcceptElsewhere: (@Sendable (TCPConnection) -> Void)?) throws(NetError) {
        let fd = try SocketOps.makeTCPSocket(address.family)
        do throws(NetError) {
            try SocketOps.setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1, call: "setsockopt(SO_REUSEADDR)")
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
        self.onAcceptElsewhere = onAcceptElsewhere
        self.targets = targets
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
        onAcceptElsewhere = nil
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
            hand(AcceptedSocket(fd: clientFD, local: local, remote: remote))
        }
    }

    /// Gives `socket` to the loop whose turn it is.
    private func hand(_ socket: AcceptedSocket) {
        let target = targets[nextTarget]
        nextTarget = nextTarget + 1 == targets.count ? 0 : nextTarget + 1
        if target === loop {
            onAccept?(socket.adopt(on: loop))
        } else if let onAcceptElsewhere {
            target.execute { onAcceptElsewhere(socket.adopt(on: target)) }
        }
    }

    func loopIsStopping() {
        close()
    }
}
