import TaplineHTTP2

/// How an upstream's HTTP/2 stream ended, as an `HTTP2StreamLeg` reports it.
public enum HTTP2StreamEnd {
    /// The upstream sent RST_STREAM with this code (NO_ERROR after a complete response:
    /// "send no more of the request", RFC 9113 §8.1).
    case resetByUpstream(HTTP2ErrorCode)
    /// The stream closed with this code without a reset from the upstream: NO_ERROR
    /// after both ends, REFUSED_STREAM when a GOAWAY left it unprocessed, or another
    /// code nghttp2 closed it with.
    case closed(HTTP2ErrorCode)
}
