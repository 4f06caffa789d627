import Foundation
import TaplineFlow
import TaplineGRPCReflection
import TaplineHTTPClient
import TaplineNet
import TaplineProxy
import TaplineWire

/// `proxy --reflect`: watches the flows go by and, the first time a gRPC call
/// (request `Content-Type: application/grpc*`) to an upstream is seen, asks that
/// upstream's server reflection for all its services (`ServerReflectionCache`: v1, then
/// v1alpha; bounded by a timeout; a failure asked again after a back-off). What it
/// gives is kept in the session (`SessionSchemaStore`, `reflected-<n>.binpb`), so show,
/// export, diff and mock decode the calls; a failure is said once per upstream on stderr.
///
/// The ask goes on a connection of its own, from a leg source on a loop of its own
/// (one thread, started here): the proxied call was already forwarded when its request
/// head was recorded, and nothing here runs on, or waits for, a proxy loop. The recorder
/// side is cheap: a content-type check per request head, and a hop to the reflection
/// loop only for gRPC calls to an upstream that has not answered yet.
///
/// Thread ownership: `record` runs on every proxy loop; `origins` and `answered` are
/// guarded by `lock`. `cache`, `source` and `logged` are confined to `loop`.
final class LiveSchemaReflector: FlowRecorder, @unchecked Sendable {
    private let group: EventLoopGroup
    private let loop: EventLoop
    private let client: HTTPClientConfiguration
    private let timeoutMilliseconds: Int
    /// Reverse mode: the one upstream every call goes to; nil in forward mode (each flow names its own).
    private let reverseUpstream: ServerReflectionUpstream?
    private let store: SessionSchemaStore?

    private let lock = NSLock()
    /// Forward mode: each open flow's `scheme://authority`, from its start to its request head.
    private var origins: [FlowID: String] = [:]
    /// Upstreams whose schema is in: their calls need no hop to the loop.
    private var answered = Set<ServerReflectionUpstream>()

    private var source: PooledUpstreamLegSource?
    private var cache: ServerReflectionCache?
    private var logged = Set<ServerReflectionUpstream>()

    /// Starts the reflection loop. `store` is where answers are kept (nil: `--no-capture`, logged only).
    init(configuration: ProxyConfiguration, store: SessionSchemaStore?, timeoutMilliseconds: Int) throws(NetError) {
        group = try EventLoopGroup(threads: 1)
        loop = group.loops[0]
        client = configuration.httpClient
        self.timeoutMilliseconds = timeoutMilliseconds
        self.store = store
        switch configuration.mode {
        case .reverse(let target) where target.scheme == .https || configuration.reverseUpstreamHTTP2:
            reverseUpstream = ServerReflectionUpstream(target: target, priorKnowledgeHTTP2: configuration.reverseUpstreamHTTP2)
        default:
            reverseUpstream = nil
        }
    }

    func record(_ event: FlowEvent) {
        switch event {
        case .flowStarted(let flow, _, _, let scheme, let authority, _) where reverseUpstream == nil:
            lock.withLock { origins[flow] = "\(scheme)://\(authority)" }
        case .requestHead(let flow, let head, _):
            let origin = reverseUpstream == nil ? lock.withLock { origins.removeValue(forKey: flow) } : nil
            guard let type = head.headers.first(name: "Content-Type"), GRPCStatus.isGRPC(contentType: type),
                  let upstream = reverseUpstream ?? origin.flatMap(Self.upstream(origin:)) else { return }
            guard !lock.withLock({ answered.contains(upstream) }) else { return }
            loop.execute { [self] in ask(upstream) }
        case .flowEnded(let flow, _, _, _, _, _) where reverseUpstream == nil:
            lock.withLock { _ = origins.removeValue(forKey: flow) }
        default:
            break
        }
    }

    /// Drops the connections and stops the loop; an ask still under way is abandoned.
    func stop() {
        loop.execute { [self] in source?.closeAll() }
        group.shutdown()
    }

    /// Forward mode: the server a flow's gRPC call went to (`https://` through CONNECT,
    /// else HTTP/2 by prior knowledge, the only way gRPC goes over plain TCP).
    private static func upstream(origin: String) -> ServerReflectionUpstream? {
        let url = origin.hasPrefix("https://") ? origin : "h2c://" + origin.drop { $0 != "/" }.dropFirst(2)
        return try? ServerReflectionUpstream(url: url)
    }

    /// On `loop`: starts the fetch unless it is in, under way, or backing off.
    private func ask(_ upstream: ServerReflectionUpstream) {
        let cache = self.cache ?? makeCache()
        _ = cache.readySchema(for: upstream)
    }

    private func makeCache() -> ServerReflectionCache {
        let source = PooledUpstreamLegSource(connector: UpstreamConnector(loop: loop, configuration: client),
                                             limits: HTTP1Limits(), idleMilliseconds: 1_000)
        let cache = ServerReflectionCache(source: source, loop: loop, timeoutMilliseconds: timeoutMilliseconds)
        cache.fetched = { [unowned self] upstream, result in fetched(upstream, result) }
        self.source = source
        self.cache = cache
        return cache
    }

    private func fetched(_ upstream: ServerReflectionUpstream, _ result: Result<ServerReflectionResult, ServerReflectionError>) {
        switch result {
        case .success(let answer):
            lock.withLock { _ = answered.insert(upstream) }
            let services = answer.services.filter { !answer.servicesWithoutDescriptors.contains($0) }
            guard let store else { return }
            do {
                let entry = try store.add(answer.schema, rootFiles: answer.rootFiles) { file in
                    SessionSchemaEntry(file: file, source: .reflection, upstream: upstream.description, paths: nil,
                                       services: services)
                }
                StandardError.writeLine("tapline: reflection on \(upstream): \(services.joined(separator: ", ")); schema kept in \(SessionSchemaStore.directoryName)/\(entry.file)")
            } catch {
                StandardError.writeLine("tapline: warning: reflection on \(upstream) answered, but its schema could not be kept: \(error)")
            }
        case .failure(let error):
            guard logged.insert(upstream).inserted else { return }
            StandardError.writeLine("tapline: reflection on \(upstream): \(Self.reason(error)) (no schema; messages decode raw)")
        }
    }

    /// The failure in a few words: the status a server without reflection answers, else the error's own text.
    private static func reason(_ error: ServerReflectionError) -> String {
        switch error.kind {
        case .notServed: return "UNIMPLEMENTED (no grpc.reflection.v1 or v1alpha service)"
        case .timedOut(let milliseconds): return "no answer within \(Double(milliseconds) / 1_000) s"
        default: return error.description
        }
    }
}
