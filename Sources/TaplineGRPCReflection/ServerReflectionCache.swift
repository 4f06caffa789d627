import TaplineHTTPClient
import TaplineNet

/// What each upstream's server reflection gave, fetched once per upstream (all its
/// services: `ServerReflectionQuery.allServices`) and kept: the schema source behind
/// `--reflect`.
///
/// Two ways to ask. `readySchema(for:)` is the proxy's: it never waits; the first ask
/// for an upstream starts the fetch (on its own legs from `source`, never on the
/// proxied call's stream) and answers nil until the result is in, so a proxied call
/// is never delayed by it. `result(for:)` waits for the fetch (the CLI's). A success is
/// kept for good. A failure is kept until `retryRule` lets the upstream be asked again
/// (a server without reflection is not asked for each call, a server that gained it is
/// picked up); until then it is what `result(for:)` answers with. `fetched` hears every
/// fetch that finished.
///
/// Thread ownership: confined to `loop`, the source's loop; completions run there.
public final class ServerReflectionCache {
    public typealias Completion = (Result<ServerReflectionResult, ServerReflectionError>) -> Void

    private enum Entry {
        case fetching(waiters: [Completion], failuresBefore: Int)
        case succeeded(ServerReflectionResult)
        /// `failures` in a row, the last at `at` (milliseconds of `clock`).
        case failed(ServerReflectionError, failures: Int, at: UInt64)
    }

    private let source: any UpstreamLegSource
    private let loop: EventLoop
    private let timeoutMilliseconds: Int
    private let retryRule: ServerReflectionRetryRule
    private let clock: () -> UInt64
    private var entries: [ServerReflectionUpstream: Entry] = [:]

    /// Runs once per finished fetch (after any waiters), with the upstream asked; on `loop`.
    public var fetched: ((ServerReflectionUpstream, Result<ServerReflectionResult, ServerReflectionError>) -> Void)?

    /// - Parameters:
    ///   - timeoutMilliseconds: the bound on each upstream's fetch.
    ///   - clock: milliseconds of a monotonic clock (a fake one in tests).
    public init(source: any UpstreamLegSource, loop: EventLoop, timeoutMilliseconds: Int,
                retryRule: ServerReflectionRetryRule = ServerReflectionRetryRule(),
                clock: @escaping () -> UInt64 = { MonotonicClock.nanoseconds() / 1_000_000 }) {
        self.source = source
        self.loop = loop
        self.timeoutMilliseconds = timeoutMilliseconds
        self.retryRule = retryRule
        self.clock = clock
    }

    /// The upstream's schema when reflection has already given it; else nil, having
    /// started the fetch if this is the first ask or a failure's back-off is over.
    public func readySchema(for upstream: ServerReflectionUpstream) -> ServerReflectionResult? {
        switch entries[upstream] {
        case .succeeded(let result): return result
        case .fetching: return nil
        case .failed(_, let failures, let at):
            if retryRule.mayRetry(failures: failures, failedAt: at, now: clock()) {
                fetch(upstream, waiters: [], failuresBefore: failures)
            }
            return nil
        case nil:
            fetch(upstream, waiters: [], failuresBefore: 0)
            return nil
        }
    }

    /// The upstream's reflection result, fetched first if it is not in yet (or a failure's
    /// back-off is over); `completion` runs once, possibly before this returns.
    public func result(for upstream: ServerReflectionUpstream, completion: @escaping Completion) {
        switch entries[upstream] {
        case .succeeded(let result):
            completion(.success(result))
        case .failed(let error, let failures, let at):
            if retryRule.mayRetry(failures: failures, failedAt: at, now: clock()) {
                fetch(upstream, waiters: [completion], failuresBefore: failures)
            } else {
                completion(.failure(error))
            }
        case .fetching(let waiters, let failuresBefore):
            entries[upstream] = .fetching(waiters: waiters + [completion], failuresBefore: failuresBefore)
        case nil:
            fetch(upstream, waiters: [completion], failuresBefore: 0)
        }
    }

    private func fetch(_ upstream: ServerReflectionUpstream, waiters: [Completion], failuresBefore: Int) {
        entries[upstream] = .fetching(waiters: waiters, failuresBefore: failuresBefore)
        ServerReflectionClient.start(.allServices, upstream: upstream, source: source, loop: loop,
                                     timeoutMilliseconds: timeoutMilliseconds) { [weak self] result in
            guard let self else { return }
            guard case .fetching(let waiters, let failuresBefore) = self.entries[upstream] else { return }
            switch result {
            case .success(let schema): self.entries[upstream] = .succeeded(schema)
            case .failure(let error): self.entries[upstream] = .failed(error, failures: failuresBefore + 1, at: self.clock())
            }
            for waiter in waiters { waiter(result) }
            self.fetched?(upstream, result)
        }
    }
}
