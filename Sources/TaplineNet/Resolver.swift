import Dispatch
import Glibc

/// Resolves host names off the event loop (getaddrinfo on a background queue)
/// and delivers the result back on the asking loop. Numeric hosts resolve at once.
public enum Resolver {
    /// Resolves `host` (a name, or a numeric IPv4/IPv6 address, brackets optional)
    /// to addresses with `port`, in getaddrinfo's order (AF_UNSPEC, SOCK_STREAM).
    /// `completion` runs on `loop`, always later (never from inside this call),
    /// even for numeric hosts. Errors: `.resolveFailed(host, reason)` and
    /// `.invalidAddress` for a port outside 0...65535. Thread: any, but
    /// `completion` is confined to `loop`.
    public static func resolve(host: String, port: Int, on loop: EventLoop,
                               completion: @escaping (Result<[SocketAddress], NetError>) -> Void) {
        let bound = LoopBound(completion, loop: loop)
        guard (0...65535).contains(port) else {
            let error = NetError.invalidAddress("\(host):\(port)")
            loop.execute { bound.value(.failure(error)) }
            return
        }
        var name = Substring(host)
        if name.hasPrefix("["), name.hasSuffix("]") { name = name.dropFirst().dropLast() }
        if let numeric = try? SocketAddress(host: String(name), port: port) {
            loop.execute { bound.value(.success([numeric])) }
            return
        }
        let lookupName = String(name)
        DispatchQueue.global().async {
            let result = lookup(lookupName, port: port)
            loop.execute { bound.value(result) }
        }
    }

    /// Blocking getaddrinfo; any thread.
    static func lookup(_ host: String, port: Int) -> Result<[SocketAddress], NetError> {
        guard !host.isEmpty else { return .failure(.resolveFailed(host: host, reason: "empty host name")) }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_protocol = Int32(IPPROTO_TCP)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, nil, &hints, &list)
        guard rc == 0 else {
            let reason = rc == EAI_SYSTEM ? String(cString: strerror(errno)) : String(cString: gai_strerror(rc))
            return .failure(.resolveFailed(host: host, reason: reason))
        }
        defer { freeaddrinfo(list) }
        var addresses: [SocketAddress] = []
        var node = list
        while let info = node {
            if let raw = info.pointee.ai_addr, let address = SocketAddress(UnsafePointer(raw)) {
                let withPort = SocketAddress(canonicalHost: address.host, port: port, family: address.family)
                if !addresses.contains(withPort) { addresses.append(withPort) }
            }
            node = info.pointee.ai_next
        }
        guard !addresses.isEmpty else {
            return .failure(.resolveFailed(host: host, reason: "no IPv4 or IPv6 address"))
        }
        return .success(addresses)
    }
}
