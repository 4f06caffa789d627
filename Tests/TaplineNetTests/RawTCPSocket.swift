import Glibc
import TaplineNet

/// A plain blocking TCP socket on 127.0.0.1, driven by the test thread (or peeked
/// at from a loop thread): the independent peer of a connection under test. Closed
/// on deinit.
final class RawTCPSocket: @unchecked Sendable {
    let fd: Int32

    private init(fd: Int32) { self.fd = fd }

    deinit { close(fd) }

    /// A listening socket on an ephemeral port of 127.0.0.1.
    static func listening() -> (socket: RawTCPSocket, address: SocketAddress)? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        let socket = RawTCPSocket(fd: fd)
        var sin = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &sin) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bind(fd, sa, length) == 0 && listen(fd, 8) == 0 && getsockname(fd, sa, &length) == 0
            }
        }
        guard bound, let address = try? SocketAddress(host: "127.0.0.1", port: Int(UInt16(bigEndian: sin.sin_port)))
        else { return nil }
        return (socket, address)
    }

    /// A blocking connect to `port` on 127.0.0.1.
    static func connected(port: Int) -> RawTCPSocket? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        let socket = RawTCPSocket(fd: fd)
        var sin = loopback(port: port)
        let ok = withUnsafeMutablePointer(to: &sin) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        return ok ? socket : nil
    }

    /// The next connection on a listening socket (blocks).
    func accept() -> RawTCPSocket? {
        let client = Glibc.accept(fd, nil, nil)
        return client >= 0 ? RawTCPSocket(fd: client) : nil
    }

    func send(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) == $0.count }
    }

    /// Sends FIN: the peer reads end of stream, and this socket can still receive.
    func shutdownWrite() -> Bool {
        Glibc.shutdown(fd, Int32(SHUT_WR)) == 0
    }

    /// Makes the close (deinit) send RST instead of FIN (SO_LINGER with a zero timeout).
    func resetOnClose() -> Bool {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        return setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size)) == 0
    }

    /// Blocks for at most `timeoutSeconds` until bytes or the peer's close arrive:
    /// the bytes read (up to `limit`), `[]` at end of stream, nil on timeout or error.
    func receive(limit: Int = 64 * 1024, timeoutSeconds: Int = 5) -> [UInt8]? {
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        guard setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size)) == 0 else {
            return nil
        }
        var buffer = [UInt8](repeating: 0, count: limit)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return n < 0 ? nil : Array(buffer[..<n])
    }

    /// How many bytes (up to 64 KiB) have arrived and wait to be read; never blocks.
    func pendingByteCount() -> Int {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        let n = buffer.withUnsafeMutableBytes {
            recv(fd, $0.baseAddress, $0.count, Int32(MSG_PEEK | MSG_DONTWAIT))
        }
        return max(0, n)
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        sin.sin_port = UInt16(port).bigEndian
        return sin
    }
}
