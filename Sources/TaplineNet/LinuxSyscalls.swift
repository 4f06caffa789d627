import Glibc

/// The few Linux system calls that Swift's `Glibc` module does not import
/// (`<sys/epoll.h>`, `<sys/eventfd.h>` and `accept4` are not in its module map),
/// bound once through `dlsym` to `@convention(c)` function pointers, so they are
/// called with the real C ABI. Also the constants and the `epoll_event` layout.
///
/// Keeping this here avoids a C shim target (TaplineNet depends on Glibc only).
/// Thread-safe: the bindings are immutable globals, initialised once.
enum LinuxSyscalls {
    typealias EpollCreate1 = @convention(c) (Int32) -> Int32
    typealias EpollCtl = @convention(c) (Int32, Int32, Int32, UnsafeMutableRawPointer?) -> Int32
    typealias EpollWait = @convention(c) (Int32, UnsafeMutableRawPointer?, Int32, Int32) -> Int32
    typealias EventFD = @convention(c) (UInt32, Int32) -> Int32
    typealias Accept4 = @convention(c) (Int32, UnsafeMutablePointer<sockaddr>?,
                                        UnsafeMutablePointer<socklen_t>?, Int32) -> Int32
    typealias SetThreadName = @convention(c) (pthread_t, UnsafePointer<CChar>?) -> Int32

    private static func bind<F>(_ name: String, as type: F.Type) -> F? {
        guard let symbol = dlsym(nil, name) else { return nil }
        return unsafeBitCast(symbol, to: type)
    }

    static let epollCreate1Function = bind("epoll_create1", as: EpollCreate1.self)
    static let epollCtlFunction = bind("epoll_ctl", as: EpollCtl.self)
    static let epollWaitFunction = bind("epoll_wait", as: EpollWait.self)
    static let eventFDFunction = bind("eventfd", as: EventFD.self)
    static let accept4Function = bind("accept4", as: Accept4.self)
    static let setThreadNameFunction = bind("pthread_setname_np", as: SetThreadName.self)

    /// True when every required symbol was found (always so on glibc).
    static var available: Bool {
        epollCreate1Function != nil && epollCtlFunction != nil && epollWaitFunction != nil
            && eventFDFunction != nil && accept4Function != nil
    }

    // MARK: Constants (from the Linux UAPI headers; identical on all architectures).
    static let EPOLLIN: UInt32 = 0x001
    static let EPOLLOUT: UInt32 = 0x004
    static let EPOLLERR: UInt32 = 0x008
    static let EPOLLHUP: UInt32 = 0x010
    static let EPOLL_CTL_ADD: Int32 = 1
    static let EPOLL_CTL_DEL: Int32 = 2
    static let EPOLL_CTL_MOD: Int32 = 3
    static let EPOLL_CLOEXEC: Int32 = O_CLOEXEC
    static let EFD_CLOEXEC: Int32 = O_CLOEXEC
    static let EFD_NONBLOCK: Int32 = O_NONBLOCK

    // MARK: struct epoll_event { uint32_t events; epoll_data_t data; }
    // Packed (12 bytes) on x86_64, naturally aligned (16 bytes) elsewhere.
    #if arch(x86_64)
    static let epollEventStride = 12
    static let epollEventDataOffset = 4
    #else
    static let epollEventStride = 16
    static let epollEventDataOffset = 8
    #endif

    static func epollCreate() -> Int32 {
        guard let f = epollCreate1Function else { errno = ENOSYS; return -1 }
        return f(EPOLL_CLOEXEC)
    }

    /// `epoll_ctl` with `data.u64 = key`.
    static func epollControl(_ epollFD: Int32, _ op: Int32, _ fd: Int32, events: UInt32, key: UInt64) -> Int32 {
        guard let f = epollCtlFunction else { errno = ENOSYS; return -1 }
        // 16 bytes cover both layouts.
        var raw: (UInt64, UInt64) = (0, 0)
        return withUnsafeMutableBytes(of: &raw) { buffer in
            buffer.storeBytes(of: events, toByteOffset: 0, as: UInt32.self)
            buffer.storeBytes(of: key, toByteOffset: epollEventDataOffset, as: UInt64.self)
            return f(epollFD, op, fd, buffer.baseAddress)
        }
    }

    static func epollWait(_ epollFD: Int32, _ events: UnsafeMutableRawPointer, _ maxEvents: Int32,
                          _ timeoutMilliseconds: Int32) -> Int32 {
        guard let f = epollWaitFunction else { errno = ENOSYS; return -1 }
        return f(epollFD, events, maxEvents, timeoutMilliseconds)
    }

    /// Reads event `index` of an `epoll_wait` result buffer.
    @inline(__always)
    static func event(at index: Int, in events: UnsafeMutableRawPointer) -> (events: UInt32, key: UInt64) {
        let base = index &* epollEventStride
        return (events.loadUnaligned(fromByteOffset: base, as: UInt32.self),
                events.loadUnaligned(fromByteOffset: base &+ epollEventDataOffset, as: UInt64.self))
    }

    static func eventFD() -> Int32 {
        guard let f = eventFDFunction else { errno = ENOSYS; return -1 }
        return f(0, EFD_CLOEXEC | EFD_NONBLOCK)
    }

    static func accept4(_ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>?,
                        _ length: UnsafeMutablePointer<socklen_t>?) -> Int32 {
        guard let f = accept4Function else { errno = ENOSYS; return -1 }
        return f(fd, address, length, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
    }

    /// Names the calling thread (shown by `top -H`, gdb); best effort, max 15 bytes.
    static func setCurrentThreadName(_ name: String) {
        guard let f = setThreadNameFunction else { return }
        _ = f(pthread_self(), String(name.prefix(15)))
    }

    /// CLOCK_MONOTONIC in nanoseconds.
    static func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}
