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
/// Out of descriptors (EMFILE/ENFILE): the listener keeps one spare descriptor
/// (`/dev/null`) for this. It closes the spare, accepts the waiting client, closes
/// that connection at once and reopens the spare, for each client waiting: they see
/// the connection closed instead of hanging in the backlog, and the loop neither
/// spins nor stops serving the connections it has. `onRefusals` hears of it at most
/// once per `refusalReportInterval` (`AcceptRefusals`). Another thread may take the
/// descriptor the spare freed before it is reopened: the listener then tries again
/// whenever it runs (after each accept, when it comes back from a backoff), and says
/// once, through `onRefusals`, that it has no spare until it has one again. Without a
/// spare, and on ENOBUFS/ENOMEM, the listener leaves epoll for 100 ms instead of
/// spinning.
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
    /// The descriptor given up to accept a client when none is left (see the type's
    /// comment), or -1 while it cannot be reopened (`restoreSpare` tries again).
    private var spareFD: Int32 = -1
    /// Opens a spare descriptor, or returns -1 with `errno` set; `/dev/null` but in tests.
    private let openSpare: () -> Int32
    /// The spare is lost and `onRefusals` was told: it is not told again until the
    /// spare is back and lost once more.
    private var spareLossReported = false
    /// Runs on `loop`, which accepts nothing until it returns: it must not block
    /// (hand the report to a queue before writing it anywhere).
    private let onRefusals: (@Sendable (AcceptRefusals) -> Void)?
    /// Refusals not reported yet, and the timer that ends the current report interval
    /// (nil: none running, the next refusal is reported at once).
    private var unreportedRefusals: AcceptRefusals?
    private var refusalReportTimer: LoopTimer?

    /// At most one `onRefusals` call per this many milliseconds.
    public static let refusalReportInterval = 10_000

    private static let backoffMilliseconds = 100
    private static let maxAcceptsPerWakeup = 1024

    /// Binds and listens; `onAccept` runs on the loop for every new connection.
    /// A port of 0 binds a free port (see `localAddress`). Throws `.addressInUse`
    /// when the address is taken.
    public convenience init(loop: EventLoop, address: SocketAddress, backlog: Int32 = 1024,
                            onRefusals: (@Sendable (AcceptRefusals) -> Void)? = nil,
                            onAccept: @escaping (TCPConnection) -> Void) throws(NetError) {
        try self.init(loop: loop, targets: [loop], address: address, backlog: backlog,
                      onRefusals: onRefusals, onAccept: onAccept, onAcceptElsewhere: nil)
    }

    /// For tests: `openSpare` stands in for opening `/dev/null`, so a spare that cannot
    /// be reopened can be simulated without running the process out of descriptors.
    convenience init(loop: EventLoop, address: SocketAddress, openSpare: @escaping () -> Int32,
                     onRefusals: @escaping @Sendable (AcceptRefusals) -> Void,
                     onAccept: @escaping (TCPConnection) -> Void) throws(NetError) {
        try self.init(loop: loop, targets: [loop], address: address, backlog: 1024, onRefusals: onRefusals,
                      onAccept: onAccept, onAcceptElsewhere: nil, openSpare: openSpare)
    }

    /// Binds and listens on `loops[0]`; accepted connections go to `loops` in
    /// turn, and `onAccept` runs on the loop of each one. Throws `.addressInUse`
    /// when the address is taken. With `transparent` the socket is a TPROXY one
    /// (`LinuxSyscalls.makeTransparent`): it takes connections the kernel's `tproxy`
    /// sent it, each accepted with its original destination as its local address.
    public convenience init(distributingTo loops: [EventLoop], address: SocketAddress, backlog: Int32 = 1024,
                            transparent: Bool = false,
                            onRefusals: (@Sendable (AcceptRefusals) -> Void)? = nil,
                            onAccept: @escaping @Sendable (TCPConnection) -> Void) throws(NetError) {
        precondition(!loops.isEmpty, "TCPListener needs at least one loop to hand connections to")
        try self.init(loop: loops[0], targets: loops, address: address, backlog: backlog, transparent: transparent,
                      onRefusals: onRefusals, onAccept: onAccept, onAcceptElsewhere: onAccept)
    }

    private init(loop: EventLoop, targets: [EventLoop], address: SocketAddress, backlog: Int32,
                 transparent: Bool = false,
                 onRefusals: (@Sendable (AcceptRefusals) -> Void)?,
                 onAccept: @escaping (TCPConnection) -> Void,
                 onAcceptElsewhere: (@Sendable (TCPConnection) -> Void)?,
                 openSpare: @escaping () -> Int32 = TCPListener.openDevNull) throws(NetError) {
        let fd = try SocketOps.makeTCPSocket(address.family)
        do throws(NetError) {
            try SocketOps.setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1, call: "setsockopt(SO_REUSEADDR)")
            if transparent { try LinuxSyscalls.makeTransparent(fd, family: address.family) }
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
        self.onRefusals = onRefusals
        self.targets = targets
        self.openSpare = openSpare
        self.spareFD = openSpare()
        if loop.inEventLoop {
            register()
        } else {
            let bound = LoopBound(self, loop: loop)
            loop.execute { bound.value.register() }
        }
    }

    deinit {
        if fd >= 0 { Glibc.close(fd) }
        if spareFD >= 0 { Glibc.close(spareFD) }
    }

    private static func openDevNull() -> Int32 {
        open("/dev/null", O_RDONLY | O_CLOEXEC)
    }

    /// Whether the listener holds its spare descriptor now. Loop thread only.
    var hasSpare: Bool { spareFD >= 0 }

    /// Reopens the spare if it is lost; the first failure since it was last held is
    /// reported through `onRefusals`. Cheap when the spare is held.
    private func restoreSpare() {
        guard spareFD < 0, !isClosed else { return }
        spareFD = openSpare()
        guard spareFD < 0 else {
            spareLossReported = false
            return
        }
        let code = errno
        guard !spareLossReported else { return }
        spareLossReported = true
        noteSpareLost(errorCode: code == ENFILE ? ENFILE : EMFILE)
    }

    private func register() {
        guard !isClosed else { return }
        registrationKey = loop.register(self, fd: fd)
        startWatching()
    }

    private func startWatching() {
        restoreSpare()
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
        refusalReportTimer?.cancel()
        refusalReportTimer = nil
        if spareFD >= 0 { Glibc.close(spareFD) }
        spareFD = -1
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
                case EMFILE, ENFILE:
                    let code = errno
                    guard turnAwayOneClient(errno: code) else {
                        backOff()
                        return
                    }
                    accepted += 1
                    continue
                default:
                    backOff()  // EMFILE, ENFILE, ENOBUFS, ENOMEM, or something unexpected
                    return
                }
            }
            accepted += 1
            restoreSpare()
            SocketOps.setNoDelay(clientFD)
            let remote = withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress($0) }
            } ?? .unspecified(localAddress.family)
            let local = SocketOps.localAddress(clientFD) ?? localAddress
            hand(AcceptedSocket(fd: clientFD, local: local, remote: remote))
        }
    }

    /// Out of descriptors: frees the spare to accept the client waiting longest, closes
    /// that connection and takes the spare back. False when there is no spare or it
    /// could not be taken back (the caller then backs off); true when the listener can
    /// go on accepting (nothing was waiting after all, or one client was turned away).
    private func turnAwayOneClient(errno code: Int32) -> Bool {
        guard spareFD >= 0 else { return false }
        Glibc.close(spareFD)
        spareFD = -1
        let clientFD = LinuxSyscalls.accept4(fd, nil, nil)
        let acceptError = clientFD < 0 ? errno : 0
        if clientFD >= 0 {
            Glibc.close(clientFD)
            noteRefusal(errno: code)
        }
        restoreSpare()
        return spareFD >= 0 && (clientFD >= 0 || acceptError == EAGAIN || acceptError == EWOULDBLOCK)
    }

    /// Counts a turned-away client; reports at once when no report interval is running,
    /// else when the current one ends.
    private func noteRefusal(errno code: Int32) {
        var refusals = unreportedRefusals ?? AcceptRefusals(count: 0, errorCode: code, descriptorLimit: 0)
        refusals.count += 1
        refusals.errorCode = code
        unreportedRefusals = refusals
        if refusalReportTimer == nil { reportRefusals() }
    }

    /// Notes that the spare could not be reopened; reported like a refusal.
    private func noteSpareLost(errorCode code: Int32) {
        var refusals = unreportedRefusals ?? AcceptRefusals(count: 0, errorCode: code, descriptorLimit: 0)
        refusals.spareLost = true
        unreportedRefusals = refusals
        if refusalReportTimer == nil { reportRefusals() }
    }

    /// Reports what was refused since the last report (if anything) and starts a new
    /// interval; an interval in which nothing was refused ends the reporting.
    private func reportRefusals() {
        refusalReportTimer = nil
        guard var refusals = unreportedRefusals else { return }
        unreportedRefusals = nil
        refusals.descriptorLimit = AcceptRefusals.currentDescriptorLimit()
        onRefusals?(refusals)
        refusalReportTimer = loop.scheduleTimer(milliseconds: Self.refusalReportInterval) { [weak self] in
            self?.reportRefusals()
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
