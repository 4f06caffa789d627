import TaplineWire

/// A response `LegFetch` collected, as the upstream sent it.
struct LegFetchResponse: Sendable {
    /// Interim (1xx) heads, in order.
    var interimHeads: [HTTPResponseHead] = []
    /// The final head as received: the HTTP/1 parser's head, or for HTTP/2 the block
    /// with its pseudo-headers (`:status`), version HTTP/2.
    var head: HTTPResponseHead
    var body: [UInt8] = []
    /// Trailers as received; nil when the response had none.
    var trailers: HTTPHeaders?
}
