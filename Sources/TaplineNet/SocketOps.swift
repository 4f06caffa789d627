import Glibc

/// Small wrappers around socket system calls shared by listeners and connections.
/// Stateless; callable from any thread.
enum SocketOps {
    /// A new non-blocking, close-on-exec TCP socket for `family`.
    static func makeTCPSocket(_ family: SocketAddress.Family) throws(NetError) -> Int32 {
        let domain = family == .ipv4 ? AF_INET : AF_INET6
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd = socket(domain, type, Int32(IPPROTO_TCP))
        guard fd >= 0 else { throw NetError.system(call: "socket", errno: errno) }
        return fd
    }

    /// `setsockopt(fd, level, name, &value)` for an int option.
    static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32, call: String) throws(NetError) {
        var v = value
        guard setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw NetError.system(call: call, errno: errno)
        }
    }

    /// Disables Nagle (best effort: failing it is not worth failing the connection).
    static func setNoDelay(_ fd: Int32) {
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// The pending error of a socket (`SO_ERROR`), 0 if none.
    static func pendingError(_ fd: Int32) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) == 0 else { return errno }
        return value
    }

    static func localAddress(_ fd: Int32) -> SocketAddress? {
        address(fd, getsockname)
    }

    static func remoteAddress(_ fd: Int32) -> SocketAddress? {
        address(fd, getpeername)
    }

    private static func address(
        _ fd: Int32,
        _ call: (Int32, UnsafeMutablePointer<sockaddr>?, UnsafeMutablePointer<socklen_t>?) -> Int32
    ) -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        return withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                call(fd, sa, &length) == 0 ? SocketAddress(UnsafePointer(sa)) : nil
            }
        }
    }
}
