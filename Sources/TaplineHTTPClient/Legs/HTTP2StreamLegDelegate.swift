import TaplineHTTP2
import TaplineWire

/// The owner of an `HTTP2StreamLeg`: an `HTTPClientLegDelegate` that also hears what
/// only an HTTP/2 stream has, for an owner that is itself an HTTP/2 endpoint and passes
/// it on (flow control toward its client, the code a stream ended with).
///
/// Thread ownership: called on the leg's loop.
public protocol HTTP2StreamLegDelegate: HTTPClientLegDelegate {
    /// The session framed `count` request body bytes onto the stream (credit them back
    /// to whoever sent them).
    func leg(_ leg: HTTP2StreamLeg, framedRequestBody count: Int)
    /// The stream ended otherwise than by the leg's own doing (after its response, or
    /// instead of it); the leg has let go of it and nothing more comes.
    func leg(_ leg: HTTP2StreamLeg, streamEnded end: HTTP2StreamEnd)
    /// Response DATA, as the array the session delivered: the leg reports body bytes here
    /// instead of `leg(_:receivedBody:)`, so an owner that sends them on over HTTP/2 (which
    /// takes an array) does not turn a slice back into one. By default the slice call.
    func leg(_ leg: HTTP2StreamLeg, receivedData bytes: [UInt8])
    /// The final response's HEADERS block as received (`endsStream`: it ended the stream;
    /// the end follows): the leg reports it here instead of `leg(_:receivedHead:)`, so an
    /// owner that forwards the block as is builds no `LegResponseHead`. By default the
    /// head call, with the framing worked out (for the leg's request) when asked.
    func leg(_ leg: HTTP2StreamLeg, receivedResponseBlock fields: HTTPHeaders, endsStream: Bool)
}

extension HTTP2StreamLegDelegate {
    public func leg(_ leg: HTTP2StreamLeg, receivedResponseBlock fields: HTTPHeaders, endsStream: Bool) {
        self.leg(leg, receivedHead: LegResponseHead(http2Response: fields, endsStream: endsStream,
                                                    requestIsHEAD: leg.requestIsHEAD))
    }

    public func leg(_ leg: HTTP2StreamLeg, receivedData bytes: [UInt8]) {
        self.leg(leg, receivedBody: bytes[...])
    }
}
