/// A handler owning one client connection, registered with its loop's
/// `ProxyContext` so that shutdown can reach it.
///
/// Thread ownership: confined to the handler's event loop.
protocol ClientHandler: AnyObject {
    /// Stop taking new requests: close now if idle, else after the exchange in flight.
    func beginShutdown()
    /// The grace period is over: abort whatever is in flight and close.
    func abort()
}
