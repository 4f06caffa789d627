import TaplineWire

/// The `UpstreamLegSource` that talks to real servers: a leg from its
/// `UpstreamLegPool` when the request may reuse one and one is idle under its key,
/// else a new connection (`UpstreamConnector`) and the leg it speaks
/// (`UpstreamLegFactory`). Released legs go back to the pool under the key they were
/// handed out for.
///
/// Invariant: `keys` holds exactly the legs handed out (or adopted) and not yet
/// released or discarded, by identity, with the key they go back under.
///
/// Thread ownership: confined to `connector.loop`; owned by one owner (in the proxy,
/// one client connection's handler), which closes it with the connection.
public final class PooledUpstreamLegSource: UpstreamLegSource {
    public let pool: UpstreamLegPool
    private let connector: UpstreamConnector
    private let limits: HTTP1Limits
    private var keys: [ObjectIdentifier: UpstreamPoolKey] = [:]

    public init(connector: UpstreamConnector, limits: HTTP1Limits, idleMilliseconds: Int,
                maxIdlePerKey: Int = UpstreamLegPool.defaultMaxIdlePerKey) {
        self.connector = connector
        self.limits = limits
        pool = UpstreamLegPool(loop: connector.loop, idleMilliseconds: idleMilliseconds, maxIdlePerKey: maxIdlePerKey)
    }

    public func leg(for request: UpstreamLegRequest,
                    completion: @escaping (Result<any HTTPClientLeg, UpstreamFailure>) -> Void) {
        let key = request.key
        if request.mayReuse, let leg = pool.take(for: key) {
            keys[ObjectIdentifier(leg)] = key
            completion(.success(leg))
            return
        }
        let limits = self.limits
        connector.connect(to: request.target, alpn: key.offer.alpn, timings: request.timings) { [weak self] result in
            switch result {
            case .success(let connection):
                let leg = UpstreamLegFactory.leg(on: connection, offer: key.offer, limits: limits)
                self?.keys[ObjectIdentifier(leg)] = key
                completion(.success(leg))
            case .failure(let failure):
                completion(.failure(failure))
            }
        }
    }

    /// Parks a leg connected elsewhere under `key`, for the next request that matches
    /// it (a connection made before the first request, or one whose ALPN answer turned
    /// an HTTP/2 attempt into HTTP/1.1). Its `reused` stays as it is: a leg that never
    /// carried a request is recorded as a new connection by the request that takes it.
    public func adopt(_ leg: any HTTPClientLeg, under key: UpstreamPoolKey) {
        pool.park(leg, for: key)
    }

    public func release(_ leg: any HTTPClientLeg) {
        guard let key = keys.removeValue(forKey: ObjectIdentifier(leg)) else {
            leg.cancel() // not one of ours: nothing to park it under
            return
        }
        pool.park(leg, for: key)
    }

    public func discard(_ leg: any HTTPClientLeg) {
        keys.removeValue(forKey: ObjectIdentifier(leg))
        leg.delegate = nil
        leg.cancel()
    }

    public func closeAll() {
        pool.closeAll()
    }
}
