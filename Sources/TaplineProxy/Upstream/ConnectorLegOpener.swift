import TaplineHTTPClient
import TaplineWire

/// The production `HTTP1LegOpener`: the loop's `UpstreamConnector`, then an
/// `HTTP2ClientLeg` when the upstream speaks HTTP/2 (ALPN h2, or prior knowledge in
/// reverse mode with `reverseUpstreamHTTP2`), else an `HTTP1ClientLeg` (also when no
/// HTTP/2 session can be allocated: HTTP/1.1 then fails visibly on it).
///
/// Reverse mode offers h2 and http/1.1 over TLS; forward mode and interception offer
/// http/1.1 only (the client spoke HTTP/1.1 to us).
///
/// Thread ownership: confined to its connector's loop.
struct ConnectorLegOpener: HTTP1LegOpener {
    let connector: UpstreamConnector
    /// The handler serves reverse mode: h2 is offered, and prior knowledge applies.
    let isReverse: Bool
    /// Reverse mode speaks HTTP/2 to the upstream without ALPN (h2c prior knowledge).
    let priorKnowledgeHTTP2: Bool
    let limits: HTTP1Limits

    func openLeg(to target: UpstreamTarget, timings: FlowTimingsBox,
                 completion: @escaping (Result<any HTTPClientLeg, UpstreamFailure>) -> Void) {
        let alpn = target.scheme != .https ? [] : isReverse ? ["h2", "http/1.1"] : ["http/1.1"]
        let speaksHTTP2ByPriorKnowledge = isReverse && priorKnowledgeHTTP2
        let limits = self.limits
        connector.connect(to: target, alpn: alpn, timings: timings) { result in
            switch result {
            case .success(let connection):
                let http2 = connection.tls?.alpn == "h2" || speaksHTTP2ByPriorKnowledge
                if http2, let leg = try? HTTP2ClientLeg.open(upstream: connection) {
                    completion(.success(leg))
                } else {
                    completion(.success(HTTP1ClientLeg(upstream: connection, reused: false, limits: limits)))
                }
            case .failure(let failure):
                completion(.failure(failure))
            }
        }
    }
}
