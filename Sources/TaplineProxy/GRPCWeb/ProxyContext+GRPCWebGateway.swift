import TaplineHTTPClient

extension ProxyContext {
    /// With `--grpc-web` (reverse mode), the leg source of one HTTP/1.1 client connection:
    /// a `PooledUpstreamLegSource` behind a `GRPCWebGatewayLegSource`; nil otherwise (the
    /// handler makes its own pooled source).
    func makeGRPCWebGatewayLegSource() -> (any UpstreamLegSource)? {
        guard configuration.grpcWebGateway, case .reverse = configuration.mode else { return nil }
        let pooled = PooledUpstreamLegSource(connector: connector, limits: configuration.limits,
                                             idleMilliseconds: configuration.timeouts.idle)
        return GRPCWebGatewayLegSource(inner: pooled, loop: loop)
    }
}
