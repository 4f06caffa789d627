import TaplineFlow
import TaplineHTTPClient

/// An intercepted client's TLS connection whose handshake has completed, held by
/// `ConnectTunnelHandler` until the client's first application bytes decide what
/// it did with our certificate (`InterceptedClientOutcome`), then handed with
/// everything here to the HTTP/1 or HTTP/2 handler. Confined to the tunnel's loop.
struct EstablishedClientTLS {
    let stream: TLSStream
    /// The name our leaf was made for (the SNI, else the target's host).
    let certificateHost: String
    /// The client chose h2 by ALPN (and so did the upstream: ALPN mirrors it).
    let isHTTP2: Bool
    let target: UpstreamTarget
    /// The upstream connected before the client's handshake; nil when that failed (`upstreamFailure`).
    let upstream: UpstreamConnection?
    let upstreamFailure: UpstreamFailure?
    let timings: FlowTimings
    /// When the handshake completed: the header timeout's time left is counted from here.
    let establishedAt: Timestamp
}
