/// A fixed set of event loops, one thread each (default: one per core).
public final class EventLoopGroup: Sendable {
    public let loops: [EventLoop]

    /// Creates and starts `threads` loops.
    public init(threads: Int) throws(NetError) {
        loops = []
    }

    /// Stops every loop and waits for its thread to end.
    public func shutdown() {}
}
