import TaplineHTTPClient
import TaplineNet

/// What each upstream's server reflection gave, fetched once per upstream (all its
/// services: `ServerReflectionQuery.allServices`) and kept: the schema source behind
/// `--reflect`.
///
/// Two ways to ask. `readySchema(for:)` is the proxy's: it never waits; the first ask
/// for an upstream starts the fetch (on its own legs from `source`, never on the
/// proxied call's stream) and answers nil until the result is in, so a proxied call
/// is decoded once reflection has answered and is never delayed by it. `result(for:)`
/// waits for the fetch (the CLI's). A failure is kept too (a server without reflection
/// is not asked again for each call) and is what `result(for:)` answers with.
///
/// Thread ownership: confined to `loop`, the source's loop; completions run there.
public final class ServerReflectionCache {
    public typealias Completion = (Result<ServerReflectionResult, ServerReflectionError>) -> Void

    private enum Entry {
        case fetching(waiters: [Completion])
        case done(Result<ServerReflectionResult, ServerReflectionError>)
    }

    private let source: any UpstreamLegSource
    private let loop: EventLoop
    private let timeoutMilliseconds: Int
    private var entries: [ServerReflectionUpstream: Entry] = [:]

    /// - Parameter timeoutMilliseconds: the bound on each upstream's fetch.
    public init(source: any UpstreamLegSource, loop: EventLoop, timeoutMilliseconds: Int) {
        self.source = source
        self.loop = loop
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    /// The upstream's schema when reflection has already given it; else nil, having
    /// started the fetch if this is the first ask.
    public func readySchema(for upstream: ServerReflectionUpstream) -> ServerReflectionResult? {
        switch entries[upstream] {
        case .done(.success(let result)): return result
        case .done(.failure), .fetching: return nil
        case nil:
            fetch(upstream)
            return nil
        }
    }

    /// The upstream's reflection result, fetched first if it is not in yet; `completion`
    /// runs once, possibly before this returns.
    public func result(for upstream: ServerReflectionUpstream, completion: @escaping Completion) {
        switch entries[upstream] {
        case .done(let result):
            completion(result)
        case .fetching(let waiters):
            entries[upstream] = .fetching(waiters: waiters + [completion])
        case nil:
            entries[upstream] = .fetching(waiters: [completion])
            fetch(upstream)
        }
    }

    private func fetch(_ upstream: ServerReflectionUpstream) {
        if entries[upstream] == nil { entries[upstream] = .fetching(waiters: []) }
        ServerReflectionClient.start(.allServices, upstream: upstream, source: source, loop: loop,
                                     timeoutMilliseconds: timeoutMilliseconds) { [weak self] result in
            guard let self else { return }
            guard case .fetching(let waiters) = self.entries[upstream] else { return }
            self.entries[upstream] = .done(result)
            for waiter in waiters { waiter(result) }
        }
    }
}
