import CTaplineLinux
import Glibc

/// The few Linux system calls that Swift's `Glibc` module does not import
/// (`<sys/epoll.h>`, `<sys/eventfd.h>`, `accept4`), through the C target
/// `CTaplineLinux`, which also hides the layout of `struct epoll_event`
/// (packed on x86_64, aligned elsewhere) behind accessor functions.
///
/// Thread-safe: stateless wrappers.
enum LinuxSyscalls {
    static let EPOLLIN = UInt32(TAPLINE_EPOLLIN)
    static let EPOLLOUT = UInt32(TAPLINE_EPOLLOUT)
    static let EPOLLERR = UInt32(TAPLINE_EPOLLERR)
    static let EPOLLHUP = UInt32(TAPLINE_EPOLLHUP)
    /// The peer shut down its sending side (its FIN arrived), whatever is still unread.
    static let EPOLLRDHUP = UInt32(TAPLINE_EPOLLRDHUP)
    static let EPOLL_CTL_ADD = Int32(TAPLINE_EPOLL_CTL_ADD)
    static let EPOLL_CTL_DEL = Int32(TAPLINE_EPOLL_CTL_DEL)
    static let EPOLL_CTL_MOD = Int32(TAPLINE_EPOLL_CTL_MOD)

    static func epollCreate() -> Int32 { tapline_epoll_create() }

    /// `epoll_ctl` with `data.u64 = key`.
    static func epollControl(_ epollFD: Int32, _ op: Int32, _ fd: Int32, events: UInt32, key: UInt64) -> Int32 {
        tapline_epoll_ctl(epollFD, op, fd, events, key)
    }

    /// A buffer for `maxEvents` results of `epollWait`; free it with `freeEventBuffer`.
    static func allocateEventBuffer(maxEvents: Int) -> UnsafeMutableRawPointer? {
        tapline_epoll_events_allocate(Int32(maxEvents))
    }

    static func freeEventBuffer(_ events: UnsafeMutableRawPointer) {
        tapline_epoll_events_free(events)
    }

    static func epollWait(_ epollFD: Int32, _ events: UnsafeMutableRawPointer, _ maxEvents: Int32,
                          _ timeoutMilliseconds: Int32) -> Int32 {
        tapline_epoll_wait(epollFD, events, maxEvents, timeoutMilliseconds)
    }

    /// Reads event `index` of an `epoll_wait` result buffer.
    @inline(__always)
    static func event(at index: Int, in events: UnsafeMutableRawPointer) -> (events: UInt32, key: UInt64) {
        (tapline_epoll_event_bits(events, Int32(index)), tapline_epoll_event_key(events, Int32(index)))
    }

    /// A non-blocking, close-on-exec eventfd.
    static func eventFD() -> Int32 { tapline_eventfd() }

    /// `accept4` with SOCK_NONBLOCK | SOCK_CLOEXEC.
    static func accept4(_ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>?,
                        _ length: UnsafeMutablePointer<socklen_t>?) -> Int32 {
        tapline_accept(fd, address, length)
    }

    /// The destination a NATed (`redirect`ed) connection was sent to before the
    /// kernel rewrote it: `SO_ORIGINAL_DST` / `IP6T_SO_ORIGINAL_DST`. Nil when the
    /// connection was not NATed (no conntrack entry) or the socket is gone.
    static func originalDestination(_ fd: Int32) -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        guard tapline_original_destination(fd, &storage, &length) == 0 else { return nil }
        return withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress($0) }
        }
    }

    /// Makes the unbound socket `fd` take what the kernel's `tproxy` sends it, for any
    /// destination (`tapline_make_transparent`).
    static func makeTransparent(_ fd: Int32, family: SocketAddress.Family) throws(NetError) {
        guard tapline_make_transparent(fd, family == .ipv6 ? 1 : 0) == 0 else {
            throw NetError.system(call: "setsockopt(IP_TRANSPARENT) (needs root)", errno: errno)
        }
    }

    /// Has the datagram socket `fd` report each datagram's destination address
    /// (`tapline_receive_destinations`), read with `tapline_receive_datagram`.
    static func receiveDestinations(_ fd: Int32, family: SocketAddress.Family) throws(NetError) {
        guard tapline_receive_destinations(fd, family == .ipv6 ? 1 : 0) == 0 else {
            throw NetError.system(call: "setsockopt(IP_PKTINFO)", errno: errno)
        }
    }

    /// `recvfrom` without blocking, also filling `destination` with the address the
    /// datagram was sent to (family AF_UNSPEC unless `receiveDestinations` was set).
    /// Bytes received, or -1 with errno.
    static func receiveDatagram(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, from address: inout sockaddr_storage,
                                length: inout socklen_t, destination: inout sockaddr_storage) -> Int {
        tapline_receive_datagram(fd, buffer.baseAddress, UInt(buffer.count), Int32(MSG_DONTWAIT), &address, &length, &destination)
    }

    /// `sendto` without blocking, from the address `source` when its family is IPv4 or
    /// IPv6 (`tapline_send_datagram`). Bytes sent, or -1 with errno.
    static func sendDatagram(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, to address: inout sockaddr_storage,
                             length: socklen_t, from source: inout sockaddr_storage) -> Int {
        tapline_send_datagram(fd, bytes.baseAddress, UInt(bytes.count), Int32(MSG_DONTWAIT), &address, length, &source)
    }

    /// Names the calling thread (shown by `top -H`, gdb); at most 15 bytes are kept.
    static func setCurrentThreadName(_ name: String) {
        tapline_set_thread_name(name)
    }

    /// CLOCK_MONOTONIC in nanoseconds.
    static func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}
