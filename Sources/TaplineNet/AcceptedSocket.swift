import Glibc

/// An accepted socket on its way from the listener's loop to the loop that will
/// own its connection (see `TCPListener.init(distributingTo:address:onAccept:)`).
///
/// Invariant: the descriptor is owned by exactly one party. Until `adopt(on:)`
/// turns it into a `TCPConnection` it belongs to this object, whose deinit closes
/// it — so a hand-off task that a stopping loop drops closes the socket instead of
/// leaking it.
///
/// Thread ownership: made on the listener's loop, then touched only by the task
/// that carries it to the target loop (one thread at a time, handed over through
/// `EventLoop.execute`'s lock), which is what makes `@unchecked Sendable` sound.
final class AcceptedSocket: @unchecked Sendable {
    private var fd: Int32
    let localAddress: SocketAddress
    let remoteAddress: SocketAddress

    init(fd: Int32, local: SocketAddress, remote: SocketAddress) {
        self.fd = fd
        self.localAddress = local
        self.remoteAddress = remote
    }

    deinit {
        if fd >= 0 { Glibc.close(fd) }
    }

    /// Wraps the socket as a connection registered with `loop`. Call once, on
    /// `loop`'s thread.
    func adopt(on loop: EventLoop) -> TCPConnection {
        precondition(fd >= 0, "AcceptedSocket adopted twice")
        let connection = TCPConnection.accepted(loop: loop, fd: fd, local: localAddress, remote: remoteAddress)
        fd = -1
        return connection
    }
}
