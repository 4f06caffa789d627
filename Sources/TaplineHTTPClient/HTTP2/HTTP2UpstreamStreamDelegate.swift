import TaplineFlow
import TaplineHTTP2

/// Receives the events of one stream of an `HTTP2UpstreamConnection`.
///
/// Thread ownership: called on the connection's loop, from its owner's pump.
public protocol HTTP2UpstreamStreamDelegate: AnyObject {
    /// A stream event: response heads, DATA, end, reset, close, `dataSent` (request bytes written).
    func upstreamStream(_ stream: Int32, received event: HTTP2Event)
    /// The connection under the stream failed or closed before the stream did.
    func upstreamStream(_ stream: Int32, lost error: FlowError)
}
