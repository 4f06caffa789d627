import TaplineWire

/// The `UpstreamLegSource` that talks to real servers: a leg from its
/// `UpstreamLegPool` when the request may reuse one and one is idle under its key,
/// else a new connection (`UpstreamConnector`) and the leg it speaks
/// (`UpstreamLegFactory`). Released legs go back to the pool under the key they were
/// handed out for.
///
/// Invariant: `handedOut` holds exactly the legs handed out and not yet released or
/// discarded, by identity, with the pool's bucket for the key they go back under (a
/// bucket, not a key: a leg goes back without its key being compared or hashed; nil
/// once the pool is closed). It is
/// a list, searched from its end: an owner holds few legs at once (one per exchange in
/// flight), and most often gives back the one it took last.
///
/// Thread ownership: confined to `connector.loop`; owned by one owner (in the proxy,
/// one client connection's handler), which closes it with the connection.
public final class PooledUpstreamLegSource: UpstreamLegSource {
    public let pool: UpstreamLegPool
    private let connector: UpstreamConnector
    private let limits: HTTP1Limits
    private var handedOut: [(leg: ObjectIdentifier, bucket: ParkedLegBucket?)] = []

    public init(connector: UpstreamConnector, limits: HTTP1Limits, idleMilliseconds: Int,
                maxIdlePerKey: Int = UpstreamLegPool.defaultMaxIdlePerKey) {
        self.connector = connector
        self.limits = limits
        pool = UpstreamLegPool(loop: connector.loop, idleMilliseconds: idleMilliseconds, maxIdlePerKey: maxIdlePerKey)
    }

    public func readyLeg(for request: UpstreamLegRequest) -> (any HTTPClientLeg)? {
        guard let (leg, bucket) = pool.take(for: request.target, offer: request.offer) else { return nil }
        handedOut.append((ObjectIdentifier(leg), bucket))
        return leg
    }

    public func openLeg(for request: UpstreamLegRequest,
                        completion: @escaping (Result<any HTTPClientLeg, UpstreamFailure>) -> Void) {
        let key = request.key
        let limits = self.limits
        connector.connect(to: request.target, alpn: key.offer.alpn, timings: request.timings) { [weak self] result in
            switch result {
            case .success(let connection):
                let leg = UpstreamLegFactory.leg(on: connection, offer: key.offer, limits: limits)
                if let self { handedOut.append((ObjectIdentifier(leg), pool.bucket(for: key, creating: true))) }
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
        guard let bucket = takeBack(leg) else {
            leg.delegate = nil
            leg.cancel() // not one of ours, given back already, or the pool is closed
            return
        }
        pool.park(leg, in: bucket)
    }

    public func discard(_ leg: any HTTPClientLeg) {
        _ = takeBack(leg)
        leg.delegate = nil
        leg.cancel()
    }

    public func closeAll() {
        pool.closeAll()
    }

    /// Removes `leg` from `handedOut`; the bucket it goes back to, or nil.
    private func takeBack(_ leg: any HTTPClientLeg) -> ParkedLegBucket? {
        let id = ObjectIdentifier(leg)
        guard let position = handedOut.lastIndex(where: { $0.leg == id }) else { return nil }
        return handedOut.remove(at: position).bucket
    }
}
