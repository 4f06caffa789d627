import TaplineHTTPClient

/// The proxy's choice of upstream protocol for an HTTP/1.1 client connection:
/// reverse mode offers h2 and http/1.1 over TLS, and speaks h2c by prior knowledge
/// with `reverseUpstreamHTTP2`; forward mode and interception offer http/1.1 only
/// (the client spoke HTTP/1.1 to us, and its request is passed on as it came).
extension UpstreamProtocolOffer {
    static func forHTTP1Client(route: HTTP1Route, configuration: ProxyConfiguration) -> UpstreamProtocolOffer {
        guard case .reverse = route else { return .http1 }
        return UpstreamProtocolOffer(alpn: UpstreamProtocolOffer.http2OrHTTP1.alpn,
                                     priorKnowledgeHTTP2: configuration.reverseUpstreamHTTP2)
    }
}
