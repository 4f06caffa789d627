import TaplineFlow
import TaplineWire

/// The client side of one upstream connection, at message level: what every owner
/// (a proxy handler today; replay or a mock tomorrow) uses to send a request and
/// receive its response, whether the upstream speaks HTTP/1.1 (`HTTP1ClientLeg`)
/// or HTTP/2 (`HTTP2ClientLeg`). Modelled on nghttpx's `DownstreamConnection`: one
/// interface behind every frontend, pause by reason.
///
/// A leg carries one request at a time: `sendHead`, any `sendBody`, `sendEnd`
/// (unless the head ended the request). Its response comes to `delegate` as
/// events: `legResponseStarted`, heads (interim, then final), body, end, or
/// `failed`, after which nothing more comes for that request. Once the response
/// ended and `poolable` is true, the same leg may carry the next request. Between
/// requests a leg reports nothing to its delegate (a pool keeps an idle leg with the
/// delegate its last owner set: what the server does to an idle connection is the
/// leg's and the pool's business).
///
/// Reading (and so response events) stops while any `LegPauseReason` holds it;
/// each reason is resumed on its own (`LegReadPauses`). Response body bytes count
/// against the upstream's flow control until the owner says it wrote them on
/// (`consumed`).
///
/// Thread ownership: confined to the loop of its connection; owned by one owner,
/// which it refers to weakly (`delegate`), or, for an `HTTP2StreamLeg`, strongly until
/// it lets go of its stream (see there).
public protocol HTTPClientLeg: AnyObject {
    var delegate: (any HTTPClientLegDelegate)? { get set }

    // What the owner records of the upstream (`upstreamConnected`); a leg with no
    // socket under it (a mock server's) says what it stands in for.

    /// The origin the leg's requests go to.
    var target: UpstreamTarget { get }
    /// `ip:port` the connection went to.
    var serverAddress: String { get }
    /// The negotiated TLS parameters and server certificate; nil over plain TCP.
    var tls: TLSDetails? { get }
    /// The request in flight (or, between requests, the next one) goes over a
    /// connection that an earlier request used: what `upstreamConnected` records,
    /// and what `StaleConnectionRetryRule` asks.
    var reused: Bool { get }
    /// A byte (HTTP/1) or frame (HTTP/2) of the response to the request in flight arrived.
    var responseStarted: Bool { get }
    /// The connection may carry another request now: the last response ended
    /// cleanly after the whole request was sent, and the connection allows reuse.
    var poolable: Bool { get }
    /// False while the upstream cannot take more request bytes now; `legBecameWritable` follows.
    var isWritable: Bool { get }

    /// Starts a request; `endStream` when it has no body (no `sendEnd` follows then).
    func sendHead(_ head: LegRequestHead, endStream: Bool)
    func sendBody(_ bytes: ArraySlice<UInt8>)
    /// Ends the request, with trailers when it has any (fields that must not be
    /// forwarded in trailers are dropped: `HTTP1HeadRewriter.forwardableTrailers`).
    func sendEnd(trailers: HTTPHeaders?)

    func pauseReading(_ reason: LegPauseReason)
    func resumeReading(_ reason: LegPauseReason)
    /// The owner wrote `count` response body bytes on to its client: an HTTP/2 leg
    /// gives the stream that window credit back; no-op for HTTP/1.
    func consumed(_ count: Int)

    /// The owner is gone or gives the request up: an HTTP/2 stream is reset with
    /// CANCEL, an HTTP/1.1 connection closed. No event follows.
    func cancel()
    /// The upstream switched protocols (101): the leg lets go of its transport and
    /// returns it with the bytes read after the switching head; nil when the leg
    /// cannot hand its transport over (an HTTP/2 stream).
    func takeOver() -> (stream: any ByteStream, unparsed: [UInt8])?
}
