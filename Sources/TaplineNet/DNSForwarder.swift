import Glibc

/// A UDP DNS forwarder: answers queries on sockets opened inside a network namespace
/// (`tapline run --transparent`'s, where nftables `redirect`s or `tproxy`s UDP port
/// 53 to them) by
/// sending each on to `upstream` from a socket in the caller's namespace, which
/// can reach the host's resolver, and the answer back to whoever asked. Queries get
/// fresh ids upstream (`DNSQueryIDMap`); the message is otherwise forwarded untouched
/// (any record type, EDNS, DNSSEC). Each answer leaves from the address its query
/// was sent to (IP_PKTINFO): after a `tproxy` that is the server the client asked,
/// which a transparent socket may send from. UDP only: a client that falls back to TCP after
/// a truncated answer goes through the TCP redirect like any other connection.
///
/// Thread ownership: `start` and `stop` are called from one controlling thread; the
/// sockets and the id map belong to the forwarder's own thread in between.
public final class DNSForwarder: @unchecked Sendable {
    /// Where the namespace-side sockets were bound (the ports filled in).
    public let localAddresses: [SocketAddress]
    /// The resolver queries are sent to.
    public let upstream: SocketAddress
    private let insideSockets: [Int32]
    private let upstreamSocket: Int32
    /// Written by `stop` to wake the thread's `poll`.
    private let wakeFD: Int32
    private var thread: pthread_t?
    private var queries = DNSQueryIDMap<Client>()

    /// Who sent a query: which namespace-side socket, from where, and to which
    /// address (AF_UNSPEC when unknown), which the answer comes from.
    private struct Client {
        let socket: Int32
        let address: sockaddr_storage
        let length: socklen_t
        let destination: sockaddr_storage
    }

    /// Opens a socket bound to each of `addresses` (port 0: any free one) inside the
    /// network namespace at `namespace` (nil: ours), and one connected to `upstream` in ours.
    /// With `transparent` the namespace-side sockets are TPROXY ones
    /// (`LinuxSyscalls.makeTransparent`); bind them to port 53, the port the answers
    /// must come from.
    public init(listeningOn addresses: [SocketAddress], inNetworkNamespace namespace: String?,
                transparent: Bool = false, upstream: SocketAddress) throws(NetError) {
        var opened: [Int32] = []
        func closeOpened() { for fd in opened { close(fd) } }
        var bound: [SocketAddress] = []
        for address in addresses {
            let result: Result<(Int32, SocketAddress), NetError>
            if let namespace {
                do {
                    result = try NetworkNamespace.withEntered(namespace) { Self.bindDatagramSocket(address, transparent: transparent) }
                } catch {
                    closeOpened()
                    throw error
                }
            } else {
                result = Self.bindDatagramSocket(address, transparent: transparent)
            }
            switch result {
            case .success(let (fd, local)):
                opened.append(fd)
                bound.append(local)
            case .failure(let error):
                closeOpened()
                throw error
            }
        }
        let upstreamFD = socket(upstream.family == .ipv4 ? AF_INET : AF_INET6, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard upstreamFD >= 0 else {
            closeOpened()
            throw NetError.system(call: "socket (DNS upstream)", errno: errno)
        }
        guard upstream.withSockAddr({ connect(upstreamFD, $0, $1) }) == 0 else {
            let error = errno
            close(upstreamFD)
            closeOpened()
            throw NetError.system(call: "connect to the DNS server \(upstream)", errno: error)
        }
        let wake = LinuxSyscalls.eventFD()
        guard wake >= 0 else {
            close(upstreamFD)
            closeOpened()
            throw NetError.system(call: "eventfd", errno: errno)
        }
        insideSockets = opened
        localAddresses = bound
        upstreamSocket = upstreamFD
        wakeFD = wake
        self.upstream = upstream
    }

    deinit {
        for fd in insideSockets { close(fd) }
        close(upstreamSocket)
        close(wakeFD)
    }

    /// Starts forwarding on a thread of its own.
    public func start() throws(NetError) {
        var handle = pthread_t()
        let retained = Unmanaged.passRetained(self)
        let rc = pthread_create(&handle, nil, { raw in
            let forwarder = Unmanaged<DNSForwarder>.fromOpaque(raw!).takeRetainedValue()
            LinuxSyscalls.setCurrentThreadName("tapline-dns")
            forwarder.run()
            return nil
        }, retained.toOpaque())
        guard rc == 0 else {
            retained.release()
            throw NetError.system(call: "pthread_create", errno: rc)
        }
        thread = handle
    }

    /// Stops the thread and waits for it. Idempotent.
    public func stop() {
        guard let thread else { return }
        self.thread = nil
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
        pthread_join(thread, nil)
    }

    private static func bindDatagramSocket(_ address: SocketAddress,
                                           transparent: Bool) -> Result<(Int32, SocketAddress), NetError> {
        let fd = socket(address.family == .ipv4 ? AF_INET : AF_INET6, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(.system(call: "socket (DNS)", errno: errno)) }
        do throws(NetError) {
            if transparent { try LinuxSyscalls.makeTransparent(fd, family: address.family) }
            try LinuxSyscalls.receiveDestinations(fd, family: address.family)
        } catch {
            close(fd)
            return .failure(error)
        }
        guard address.withSockAddr({ bind(fd, $0, $1) }) == 0 else {
            let error = errno
            close(fd)
            return .failure(.system(call: "bind \(address) (DNS)", errno: error))
        }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let local = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> SocketAddress? in
                getsockname(fd, pointer, &length) == 0 ? SocketAddress(pointer) : nil
            }
        }
        guard let local else {
            let error = errno
            close(fd)
            return .failure(.system(call: "getsockname (DNS)", errno: error))
        }
        return .success((fd, local))
    }

    private func run() {
        var polled = (insideSockets + [upstreamSocket, wakeFD]).map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = poll(&polled, nfds_t(polled.count), -1)
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            if polled[polled.count - 1].revents != 0 { return } // stop()
            for index in insideSockets.indices where polled[index].revents != 0 {
                forwardQuery(from: insideSockets[index], buffer: &buffer)
            }
            if polled[insideSockets.count].revents != 0 { returnAnswer(buffer: &buffer) }
        }
    }

    private var nowMilliseconds: Int64 { Int64(LinuxSyscalls.monotonicNanoseconds() / 1_000_000) }

    private func forwardQuery(from fd: Int32, buffer: inout [UInt8]) {
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        var destination = sockaddr_storage()
        let received = buffer.withUnsafeMutableBytes { bytes in
            LinuxSyscalls.receiveDatagram(fd, into: bytes, from: &address, length: &length, destination: &destination)
        }
        guard received >= 12 else { return } // not even a DNS header
        let clientID = UInt16(buffer[0]) << 8 | UInt16(buffer[1])
        let client = Client(socket: fd, address: address, length: length, destination: destination)
        guard let id = queries.forward(clientID: clientID, client: client,
                                       now: nowMilliseconds) else { return }
        buffer[0] = UInt8(id >> 8)
        buffer[1] = UInt8(id & 0xff)
        _ = buffer.withUnsafeBytes { send(upstreamSocket, $0.baseAddress, received, Int32(MSG_DONTWAIT)) }
    }

    private func returnAnswer(buffer: inout [UInt8]) {
        let received = buffer.withUnsafeMutableBytes { recv(upstreamSocket, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        guard received >= 12 else { return }
        guard let query = queries.answer(upstreamID: UInt16(buffer[0]) << 8 | UInt16(buffer[1]), now: nowMilliseconds) else {
            return
        }
        buffer[0] = UInt8(query.clientID >> 8)
        buffer[1] = UInt8(query.clientID & 0xff)
        var address = query.client.address
        var source = query.client.destination
        _ = buffer.withUnsafeBytes { bytes in
            LinuxSyscalls.sendDatagram(query.client.socket, UnsafeRawBufferPointer(rebasing: bytes[..<received]),
                                       to: &address, length: query.client.length, from: &source)
        }
    }
}
