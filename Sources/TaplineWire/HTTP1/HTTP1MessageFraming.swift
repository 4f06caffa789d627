/// How the body of one parsed HTTP/1.1 message is delimited, as the parser decided
/// it from the header section (RFC 9112 §6.3) after refusing every ambiguous form.
///
/// This, not the framing fields as received, is what a proxy must use to frame the
/// message it forwards: the received `Content-Length` / `Transfer-Encoding` fields
/// may be duplicated (`5, 5`), carry codings the next hop reads differently, or be
/// named by `Connection` and so removed as hop-by-hop.
public enum HTTP1MessageFraming: Sendable, Equatable {
    /// No body and no length to state: a request without `Content-Length` or
    /// `Transfer-Encoding`, or a response that has no body because of its status
    /// or the request method (1xx, 101, 204, 304, HEAD, a 2xx to CONNECT).
    case none
    /// Exactly this many bytes, from `Content-Length` (all its values agreed).
    case length(Int)
    /// The chunked transfer coding, the final (for requests the only) coding.
    case chunked
    /// Until the connection closes (responses only).
    case untilClose
}
