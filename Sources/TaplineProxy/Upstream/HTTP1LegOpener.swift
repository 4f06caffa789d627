import TaplineHTTPClient

/// Where `HTTP1ProxyHandler` gets a leg over a new upstream connection (reusing the
/// leg it kept is the handler's own business). Injected so that the handler can be
/// driven in tests without sockets; `ConnectorLegOpener` is the production one.
///
/// Thread ownership: used on the handler's loop; `completion` runs on it, once.
protocol HTTP1LegOpener {
    /// Opens a connection to `target` and a leg on it, stamping the connection's setup
    /// (DNS, connect, TLS) into `timings`. A leg delivered to an owner that no longer
    /// wants it must be cancelled by that owner.
    func openLeg(to target: UpstreamTarget, timings: FlowTimingsBox,
                 completion: @escaping (Result<any HTTPClientLeg, UpstreamFailure>) -> Void)
}
