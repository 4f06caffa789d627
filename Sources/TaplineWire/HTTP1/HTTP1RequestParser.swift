/// Sans-I/O HTTP/1.1 request parser (RFC 9112) for the client side of the proxy.
///
/// Usage: `append(_:)` bytes as they arrive, then pull events with `nextEvent()`
/// until it returns nil (needs more bytes). Pulling is how the proxy applies
/// backpressure and serializes pipelined requests: it simply stops pulling after
/// an `.end` until the response is done; unparsed bytes stay buffered here.
///
/// After the `.end` of a CONNECT request or of a request carrying `Upgrade`,
/// the parser stops (returns nil) until the caller either takes the rest of the
/// stream with `takeUnparsedBytes()` (tunnel / protocol switch) or calls
/// `resumeAfterDeclinedUpgrade()`.
///
/// Ambiguous or invalid framing throws `HTTP1ParseError` and the parser stays
/// failed: Transfer-Encoding with Content-Length, differing Content-Lengths,
/// bad chunk sizes, obs-fold, bare CR, invalid token characters, an oversized
/// header section.
///
/// Not thread-safe: owned by the connection (and so the event loop) using it.
public struct HTTP1RequestParser: Sendable {
    public init(limits: HTTP1Limits = HTTP1Limits()) {
        // TODO(wire): implement
    }

    /// Adds bytes received from the peer.
    public mutating func append(_ bytes: some Collection<UInt8>) {
        // TODO(wire): implement
    }

    /// The next event, or nil when more input is needed (or the parser is
    /// stopped at an upgrade/CONNECT boundary).
    public mutating func nextEvent() throws(HTTP1ParseError) -> HTTP1RequestEvent? {
        nil // TODO(wire): implement
    }

    /// The peer closed its side. Throws when a message was cut short.
    public mutating func finish() throws(HTTP1ParseError) {
        // TODO(wire): implement
    }

    /// True when no bytes of an unfinished message are buffered (safe to close on idle).
    public var isIdle: Bool { true }

    /// Number of bytes buffered but not yet parsed.
    public var bufferedByteCount: Int { 0 }

    /// Removes and returns every byte buffered after the last parsed message.
    public mutating func takeUnparsedBytes() -> [UInt8] { [] }

    /// Continue parsing HTTP after an Upgrade request the server did not accept.
    public mutating func resumeAfterDeclinedUpgrade() {}
}
