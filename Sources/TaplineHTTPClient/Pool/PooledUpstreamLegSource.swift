import TaplineWire

/// The `UpstreamLegSource` that talks to real servers: a leg from its
/// `UpstreamLegPool` when the request may reuse one and one is idle under its key,
/// else a new connection (`UpstreamConnector`) and the leg it speaks
/// (`UpstreamLegFactory`). Released legs go back to the pool under the key they were
/// handed out for.
///
/// Invariant: `lastHandedOut` and `otherHandedOut` together hold exactly the legs
/// handed out and not yet released or discarded, by identity, each with the pool's
/// bucket for the key it goes back under (a bucket, not a key: a leg goes back without
/// its key being compared or hashed; nil once the pool is closed). An owner holds few
/// legs at once (one per exchange in flight) and most often gives back the one it took
/// last, so that one has a slot of its own: an HTTP/1.1 connection's request takes and
/// gives back its leg without an array being grown or shifted. `otherHandedOut` is a
/// list, searched from its end. `lastHandedOut` is filled first.
///
/// Thread ownership: confined to `connector.loop`; owned by one owner (in the proxy,
/// one client connection's handler), which closes it with the connection.
public final class PooledUpstreamLegSource: UpstreamLegSource {
    public let pool: UpstreamLegPool
    private let connector: UpstreamConnector
    private let limits: HTTP1Limits
    /// The leg handed out last and not yet given back, if any (see the invariant).
    private var lastHandedOut: HandedOutLeg?
    /// The other legs handed out and not yet given back.
    private var otherHandedOut: [HandedOutLeg] = []

    public init(connector: UpstreamConnector, limits: HTTP1Limits, idleMilliseconds: Int,
                maxIdlePerKey: Int = UpstreamLegPool.defaultMaxIdlePerKey) {
        self.connector = connector
        self.limits = limits
        pool = UpstreamLegPool(loop: connector.loop, idleMilliseconds: idleMilliseconds, maxIdlePerKey: maxIdlePerKey)
    }

    public func readyLeg(for request: UpstreamLegRequest) -> (any HTTPClientLeg)? {
        guard let (leg, bucket) = pool.take(for: request.target, offer: request.offer) else { return nil }
        recordHandedOut(HandedOutLeg(leg: ObjectIdentifier(leg), bucket: bucket))
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
                if let self {
                    recordHandedOut(HandedOutLeg(leg: ObjectIdentifier(leg), bucket: pool.bucket(for: key, creating: true)))
                }
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

    /// Parks `leg` with its delegate as it is (a parked leg reports nothing; the next
    /// owner sets its own): one weak reference less to clear and set per request.
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

    private func recordHandedOut(_ record: HandedOutLeg) {
        if lastHandedOut == nil {
            lastHandedOut = record
        } else {
            otherHandedOut.append(record)
        }
    }

    /// Removes `leg` from the legs handed out; the bucket it goes back to, or nil.
    private func takeBack(_ leg: any HTTPClientLeg) -> ParkedLegBucket? {
        let id = ObjectIdentifier(leg)
        if let last = lastHandedOut, last.leg == id {
            lastHandedOut = nil
            return last.bucket
        }
        guard let position = otherHandedOut.lastIndex(where: { $0.leg == id }) else { return nil }
        return otherHandedOut.remove(at: position).bucket
    }
}
