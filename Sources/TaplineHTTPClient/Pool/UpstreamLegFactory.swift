import TaplineWire

/// The one place that decides which leg a new upstream connection speaks: HTTP/2
/// (`HTTP2ClientLeg`) when the TLS handshake chose `h2` or the offer says prior
/// knowledge, else HTTP/1.1 (`HTTP1ClientLeg`). HTTP/1.1 is also what a connection
/// gets when no HTTP/2 session can be allocated: its first request then fails
/// visibly against an h2 server instead of the connection vanishing.
public enum UpstreamLegFactory {
    /// A leg that takes `connection` over (it becomes the connection's stream's delegate).
    public static func leg(on connection: UpstreamConnection, offer: UpstreamProtocolOffer,
                           limits: HTTP1Limits) -> any HTTPClientLeg {
        let speaksHTTP2 = connection.tls?.alpn == "h2" || offer.priorKnowledgeHTTP2
        if speaksHTTP2, let leg = try? HTTP2ClientLeg.open(upstream: connection) {
            return leg
        }
        return HTTP1ClientLeg(upstream: connection, reused: false, limits: limits)
    }
}
