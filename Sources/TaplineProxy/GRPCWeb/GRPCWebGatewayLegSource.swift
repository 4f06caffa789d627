import TaplineHTTPClient
import TaplineNet
import TaplineWire

/// The leg source of a client connection on a `--grpc-web` gateway: the connection's
/// `PooledUpstreamLegSource` (`inner`), each leg it hands out wrapped in a
/// `GRPCWebGatewayLeg`, and unwrapped again when it comes back, so that the pool keeps
/// and reuses the real upstream connections as for any reverse proxy. Every leg is
/// asked for with `offer` (HTTP/2: a gRPC upstream speaks nothing else), whatever its
/// owner asked (an HTTP/2 client's handler asks its HTTP/1.1-leg source for HTTP/1.1).
///
/// Requests it answers without an upstream (by the request's head, `UpstreamLegRequest.head`):
/// a gRPC-Web CORS preflight gets a leg without a connection at once (an unreachable
/// upstream cannot fail it), and a gRPC-Web call whose connect failed gets one that ends
/// it with `grpc-status` 14 naming the connect error, as the browser expects of a gateway
/// (anything else fails to open as the connect did).
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
        guard request.offer != offer else { return request }
        return UpstreamLegRequest(target: request.target, offer: offer, timings: request.timings, head: request.head)
    }

    /// The request's head as HTTP/1.1 (how the gateway reads it), when the owner gave it.
    private static func http1Head(of request: UpstreamLegRequest) -> HTTPRequestHead? {
        switch request.head {
        case .http1(let head)?: head
        case .http2(let fields)?: HTTP2HeadTranslator.http1Request(fields)
        case nil: nil
        }
    }

    private func isPreflight(_ request: UpstreamLegRequest) -> Bool {
        Self.http1Head(of: request).map(GRPCWebCORS.isGRPCWebPreflight) ?? false
    }

    func readyLeg(for request: UpstreamLegRequest) -> (any HTTPClientLeg)? {
        if isPreflight(request) { return GRPCWebGatewayLeg(answeringFor: request.target, connectFailure: nil, loop: loop) }
        return inner.readyLeg(for: upstreamRequest(request)).map { GRPCWebGatewayLeg(inner: $0, loop: loop) }
    }

    func openLeg(for request: UpstreamLegRequest,
                 completion: @escaping (Result<any HTTPClientLeg, UpstreamFailure>) -> Void) {
        if isPreflight(request) {
            let leg = GRPCWebGatewayLeg(answeringFor: request.target, connectFailure: nil, loop: loop)
            _ = loop.scheduleTimer(milliseconds: 0) { completion(.success(leg)) } // as a connect would: never inside the call
            return
        }
        let isGRPCWebCall = Self.http1Head(of: request).flatMap(GRPCWebTranslator.init(request:)) != nil
        inner.openLeg(for: upstreamRequest(request)) { [loop] result in
            switch result {
            case .success(let leg):
                completion(.success(GRPCWebGatewayLeg(inner: leg, loop: loop)))
            case .failure(let failure) where isGRPCWebCall:
                completion(.success(GRPCWebGatewayLeg(answeringFor: request.target, connectFailure: failure.error,
                                                      loop: loop)))
            case .failure(let failure):
                completion(.failure(failure))
            }
        }
    }

    /// The wrapper keeps its delegate: `inner`'s `legFinishedInput` for the batch that ended
    /// the response may still come through it (`HTTPClientLegDelegate`'s end of input).
    func release(_ leg: any HTTPClientLeg) {
        guard let gateway = leg as? GRPCWebGatewayLeg else { return inner.release(leg) }
        guard let upstream = gateway.inner else { return }
        if gateway.poolable { inner.release(upstream) } else { inner.discard(upstream) }
    }

    func discard(_ leg: any HTTPClientLeg) {
        guard let gateway = leg as? GRPCWebGatewayLeg else { return inner.discard(leg) }
        gateway.delegate = nil
        if let upstream = gateway.inner { inner.discard(upstream) }
    }

    func closeAll() {
        inner.closeAll()
    }
}
