import Glibc

/// A fixed set of event loops, one thread each (default: one per core).
///
/// Thread-safe: `loops` is immutable; `shutdown()` may be called from any thread
/// except a loop thread of this group (it would wait for itself; there it only
/// stops the loops).
public final class EventLoopGroup: Sendable {
    public let loops: [EventLoop]

    /// The number of online CPU cores (at least 1).
    public static var coreCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// Creates and starts `threads` loops (`threads < 1` means one per core).
    /// Also sets SIGPIPE to ignored for the process (sockets also use MSG_NOSIGNAL).
    public init(threads: Int) throws(NetError) {
        signal(SIGPIPE, SIG_IGN)
        let count = threads < 1 ? Self.coreCount : threads
        var loops: [EventLoop] = []
        loops.reserveCapacity(count)
        do {
            for i in 0..<count {
                let loop = try EventLoop(index: i)
                loops.append(loop)
                try loop.start()
            }
        } catch {
            for loop in loops { loop.stop() }
            for loop in loops { loop.join() }
            throw error
        }
        self.loops = loops
    }

    /// Stops every loop and waits for its thread to end. Idempotent.
    public func shutdown() {
        for loop in loops { loop.stop() }
        for loop in loops { loop.join() }
    }
}
