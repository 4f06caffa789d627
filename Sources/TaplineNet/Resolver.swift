/// Resolves host names off the event loop (getaddrinfo on a background queue)
/// and delivers the result back on the asking loop. Numeric hosts resolve at once.
public enum Resolver {
    public static func resolve(host: String, port: Int, on loop: EventLoop,
                               completion: @escaping (Result<[SocketAddress], NetError>) -> Void) {}
}
