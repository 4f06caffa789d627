import TaplineHTTPClient
import TaplineNet

/// The leg source of a client connection on a `--grpc-web` gateway: the connection's
/// `PooledUpstreamLegSource` (`inner`), each leg it hands out wrapped in a
/// `GRPCWebGatewayLeg`, and unwrapped again when it comes back, so that the pool keeps
/// and reuses the real upstream connections as for any reverse proxy. Every leg is
/// asked for with `offer` (HTTP/2: a gRPC upstream speaks nothing else), whatever its
/// owner asked (an HTTP/2 client's handler asks its HTTP/1.1-leg source for HTTP/1.1).
///
/// Thread ownership: confined to `loop`, owned by one handler.
final class GRPCWebGatewayLegSource: UpstreamLegSource {
    private let inner: any UpstreamLegSource
    private let offer: UpstreamProtocolOffer
    private let loop: EventLoop

    init(inner: any UpstreamLegSource, offer: UpstreamProtocolOffer, loop: EventLoop) {
        self.inner = inner
        self.offer = offer
        self.loop = loop
    }

    /// `request` asking for `offer`.
    private func upstreamRequest(_ request: UpstreamLegRequest) -> UpstreamLegRequest {
        request.offer == offer ? request : UpstreamLegRequest(target: request.target, offer: offer, timings: request.timings)
    }

    func readyLeg(for request: UpstreamLegRequest) -> (any HTTPClientLeg)? {
        inner.readyLeg(for: upstreamRequest(request)).map { GRPCWebGatewayLeg(inner: $0, loop: loop) }
    }

    func openLeg(for request: UpstreamLegRequest,
                 completion: @escaping (Result<any HTTPClientLeg, UpstreamFailure>) -> Void) {
        inner.openLeg(for: upstreamRequest(request)) { [loop] result in
            completion(result.map { GRPCWebGatewayLeg(inner: $0, loop: loop) })
        }
    }

    /// The wrapper keeps its delegate: `inner`'s `legFinishedInput` for the batch that ended
    /// the response may still come through it (`HTTPClientLegDelegate`'s end of input).
    func release(_ leg: any HTTPClientLeg) {
        guard let gateway = leg as? GRPCWebGatewayLeg else { return inner.release(leg) }
        if gateway.poolable { inner.release(gateway.inner) } else { inner.discard(gateway.inner) }
    }

    func discard(_ leg: any HTTPClientLeg) {
        guard let gateway = leg as? GRPCWebGatewayLeg else { return inner.discard(leg) }
        gateway.delegate = nil
        inner.discard(gateway.inner)
    }

    func closeAll() {
        inner.closeAll()
    }
}
