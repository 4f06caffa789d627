import TaplineHTTPClient
/// Where an `HTTP2ProxyHandler` sends its streams, and how it talks to that upstream.
struct HTTP2Route {
    /// How the upstream leg speaks.
    enum UpstreamProtocol: Equatable {
        /// HTTP/1.1 (a plain `--reverse http://` upstream): one connection per stream.
        case http1
        /// HTTP/2 with prior knowledge (`--reverse h2c://`, or CONNECT + h2c): one shared connection.
        case http2PriorKnowledge
        /// TLS with ALPN `h2, http/1.1`: whatever the upstream picks.
        case negotiated
    }

    let target: UpstreamTarget
    let upstreamProtocol: UpstreamProtocol
    /// Reverse mode: `:authority`/Host become the upstream's and X-Forwarded-* are added.
    let isReverse: Bool
    /// Where every stream's leg comes from instead of the handler's own pool and shared
    /// HTTP/2 upstream (a mock's recorded responses, a gRPC-Web gateway's translating legs;
    /// `upstreamProtocol` is `.http1`); nil: real upstreams.
    var legSource: (any UpstreamLegSource)? = nil
}
