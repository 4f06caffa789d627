import TaplineHTTPClient

extension ProxyContext {
    /// With `--grpc-web` (reverse mode), the leg source of one client connection's handler
    /// (HTTP/1.1, or HTTP/2 through its HTTP/1.1-leg path): a `PooledUpstreamLegSource`
    /// behind a `GRPCWebGatewayLegSource` that asks for HTTP/2 (prior knowledge for
    /// `h2c://`, ALPN `h2` alone for `https://`: gRPC needs HTTP/2); nil otherwise.
    func makeGRPCWebGatewayLegSource() -> (any UpstreamLegSource)? {
        guard configuration.grpcWebGateway, case .reverse = configuration.mode else { return nil }
        let pooled = PooledUpstreamLegSource(connector: connector, limits: configuration.limits,
                                             idleMilliseconds: configuration.timeouts.idle)
        let offer = UpstreamProtocolOffer(alpn: ["h2"], priorKnowledgeHTTP2: configuration.reverseUpstreamHTTP2)
        return GRPCWebGatewayLegSource(inner: pooled, offer: offer, loop: loop)
    }
}
