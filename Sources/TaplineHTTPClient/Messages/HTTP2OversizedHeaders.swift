import TaplineFlow
import TaplineHTTP2

/// What Tapline tells the user about a header block over its
/// SETTINGS_MAX_HEADER_LIST_SIZE (`HTTP2Event.oversizedHeaders`): the flow error, and
/// for a client's block the 431 the client gets (RFC 9113 §10.5.1).
public enum HTTP2OversizedHeaders {
    /// A request's head or trailers from the client: answered with 431 and recorded as `badRequest`.
    public static func clientError(kind: HTTP2HeadersKind, size: Int, limit: UInt32) -> FlowError {
        FlowError(.badRequest, "the request's \(what(kind)) is \(size) bytes, over the \(limit) Tapline accepts "
            + "(its SETTINGS_MAX_HEADER_LIST_SIZE; the capture keeps the fields that fit)")
    }

    /// A response head or trailers from the upstream: the stream is cancelled and the
    /// flow recorded as `badResponse` (502 when nothing was answered yet).
    static func upstreamError(kind: HTTP2HeadersKind, size: Int, limit: UInt32, upstream: String) -> FlowError {
        FlowError(.badResponse, "\(upstream) sent a \(what(kind)) of \(size) bytes, over the \(limit) Tapline accepts "
            + "(its SETTINGS_MAX_HEADER_LIST_SIZE)")
    }

    private static func what(_ kind: HTTP2HeadersKind) -> String {
        switch kind {
        case .request: return "header list"
        case .informational: return "1xx response header list"
        case .response: return "response header list"
        case .trailers: return "trailer section"
        }
    }
}
