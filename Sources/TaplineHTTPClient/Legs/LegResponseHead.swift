import TaplineWire

/// A response head (interim or final) as an `HTTPClientLeg` received it.
///
/// `received` is the head exactly as the upstream sent it, which the capture
/// records: the HTTP/1 parser's head, or `HTTP2HeadTranslator.capturedResponse` of
/// the HTTP/2 block (version HTTP/2, pseudo-headers included). The other fields are
/// the message-level facts an owner needs to forward it, in HTTP/1.1 terms.
public struct LegResponseHead {
    /// Where `framing` comes from: decided by the leg (an HTTP/1 parser; an interim head;
    /// a leg that needs it itself), or worked out from an HTTP/2 response and its request
    /// only when an owner asks (an HTTP/2 owner forwards the block and never does).
    private enum FramingSource {
        case decided(HTTP1BodyFraming)
        /// An HTTP/2 response; whether the request it answers is a HEAD (all its framing
        /// needs of the request).
        case http2Response(requestIsHEAD: Bool)
    }

    public let received: HTTPResponseHead
    private let framingSource: FramingSource
    /// For a bodiless final response (HEAD, 204, 304), the Content-Length the HTTP/1
    /// parser found all its values to agree on (see `HTTP1ResponseParser`); nil otherwise
    /// and for HTTP/2 (nghttp2 has already checked that field).
    public let statedContentLength: Int?
    /// The head is the whole response: an HTTP/2 HEADERS frame that ended its stream (an
    /// HTTP/2 owner forwards it so). False for HTTP/1 and interim heads.
    public let endsStream: Bool

    /// A head whose framing the leg decided (public: a leg outside this module, such
    /// as a mock server's, states its responses so).
    public init(received: HTTPResponseHead, framing: HTTP1BodyFraming, statedContentLength: Int?, endsStream: Bool = false) {
        self.received = received
        framingSource = .decided(framing)
        self.statedContentLength = statedContentLength
        self.endsStream = endsStream
    }

    /// A final HTTP/2 response to a request that was a HEAD or not (`requestIsHEAD`):
    /// `framing` is worked out when asked.
    init(http2Response fields: HTTPHeaders, endsStream: Bool, requestIsHEAD: Bool) {
        received = HTTP2HeadTranslator.capturedResponse(fields)
        framingSource = .http2Response(requestIsHEAD: requestIsHEAD)
        statedContentLength = nil
        self.endsStream = endsStream
    }

    /// How the body that follows is delimited: the HTTP/1 parser's decision, or for an
    /// HTTP/2 response the framing an HTTP/1.1 message carrying it gets
    /// (`HTTP2HeadTranslator.http1Framing`: its `content-length`, `Content-Length: 0`
    /// when the HEADERS ended the stream, `.none` when it has no body, else chunked).
    /// `.none` for interim heads.
    public var framing: HTTP1BodyFraming {
        switch framingSource {
        case .decided(let framing):
            return framing
        case .http2Response(let requestIsHEAD):
            return HTTP2HeadTranslator.http1Framing(of: received.headers, requestIsHEAD: requestIsHEAD, endStream: endsStream)
        }
    }

    /// The HTTP/2 block as received, for an HTTP/2 owner to forward as is (no
    /// translation, no copy); nil for an HTTP/1 head.
    public var http2Fields: HTTPHeaders? { received.version == .http2 ? received.headers : nil }
}
