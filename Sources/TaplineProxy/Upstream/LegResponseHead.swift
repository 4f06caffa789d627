import TaplineWire

/// A response head (interim or final) as an `HTTPClientLeg` received it.
///
/// `received` is the head exactly as the upstream sent it, which the capture
/// records: the HTTP/1 parser's head, or `HTTP2HeadTranslator.capturedResponse` of
/// the HTTP/2 block (version HTTP/2, pseudo-headers included). The other fields are
/// the message-level facts an owner needs to forward it, in HTTP/1.1 terms.
struct LegResponseHead {
    let received: HTTPResponseHead
    /// How the body that follows is delimited: the HTTP/1 parser's decision, or for an
    /// HTTP/2 response the framing an HTTP/1.1 message carrying it gets (its
    /// `content-length`, `Content-Length: 0` when the HEADERS ended the stream,
    /// `.none` when it has no body, else chunked). `.none` for interim heads.
    let framing: HTTP1BodyFraming
    /// For a bodiless final response (HEAD, 204, 304), the Content-Length the HTTP/1
    /// parser found all its values to agree on (see `HTTP1ResponseParser`); nil otherwise
    /// and for HTTP/2 (nghttp2 has already checked that field).
    let statedContentLength: Int?
    /// The head is the whole response: an HTTP/2 HEADERS frame that ended its stream (an
    /// HTTP/2 owner forwards it so). False for HTTP/1 and interim heads.
    var endsStream = false

    /// The HTTP/2 block as received, for an HTTP/2 owner to forward as is (no
    /// translation, no copy); nil for an HTTP/1 head.
    var http2Fields: HTTPHeaders? { received.version == .http2 ? received.headers : nil }
}
