/// Sans-I/O HTTP/1.1 response parser (RFC 9112) for the upstream side of the proxy.
///
/// The caller announces each request it forwarded, in order, with
/// `expectResponse(toMethod:)`: HEAD responses have no body, a 2xx to CONNECT
/// and a 101 switch protocols (the parser then stops; see `takeUnparsedBytes()`).
/// Bodiless statuses (1xx, 204, 304) are handled; a response without
/// Content-Length or chunked encoding is delimited by connection close, which
/// the caller reports with `finish()`.
///
/// Not thread-safe: owned by the connection (and so the event loop) using it.
public struct HTTP1ResponseParser: Sendable {
    public init(limits: HTTP1Limits = HTTP1Limits()) {}

    /// Records that a request with `method` was sent; responses are matched in order.
    public mutating func expectResponse(toMethod method: String) {}

    public mutating func append(_ bytes: some Collection<UInt8>) {}

    public mutating func nextEvent() throws(HTTP1ParseError) -> HTTP1ResponseEvent? { nil }

    /// The upstream closed. Completes a close-delimited body (returned as `.end`
    /// from the next `nextEvent()`), or throws when a framed message was cut short.
    public mutating func finish() throws(HTTP1ParseError) {}

    /// True when the current response body is delimited by connection close.
    public var isReadingUntilClose: Bool { false }

    public var bufferedByteCount: Int { 0 }

    public mutating func takeUnparsedBytes() -> [UInt8] { [] }
}
