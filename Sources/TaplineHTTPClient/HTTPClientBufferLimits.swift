import TaplineWire

/// How many bytes an upstream leg, and the proxy's parsers and HTTP/2 streams that
/// feed one, hold before the side that sends them is no longer read
/// (docs/architecture.md, "Backpressure"). The proxy's other limits are its
/// `BufferLimits`; together they bound the proxy's memory whatever the body sizes.
///
/// "One read" below is at most 64 KiB (`EventLoop.readBuffer`): a limit is checked
/// before a read is handed on, so a holder can pass its limit by one read.
///
/// Constants, not settings: the RSS budgets of the integration tests (peak RSS under
/// 64 MB for 50 concurrent 1 MiB downloads, test_forward_http.py) were measured with them.
public enum HTTPClientBufferLimits {
    /// Unparsed HTTP/1.1 input one parser (an `HTTP1ProxyHandler`'s client parser, an
    /// `HTTP1ClientLeg`'s response parser) holds before its socket is no longer read.
    ///
    /// Why 64 KiB: one read; parsing a whole read before taking the next is all the
    /// parser needs, and a smaller buffer took 50 concurrent 1 MiB downloads with
    /// the 128/32 KiB write watermarks under the 64 MB RSS budget.
    /// Worst case: 128 KiB (the limit plus one read) per parser, two per HTTP/1.1
    /// client connection.
    public static let http1ParserInput = 64 * 1024

    /// `http1ParserInput`, raised to what `limits` let one head or trailer section be:
    /// a parser only parses a head it holds whole, so below that size a head within
    /// `--max-header-bytes` would never be read to its end, and the connection would
    /// wait for the header (or response) timeout instead.
    /// Worst case: that size plus one read per parser.
    public static func http1ParserInput(for limits: HTTP1Limits) -> Int {
        max(http1ParserInput, limits.maxHeaderSectionBytes, limits.maxTrailerSectionBytes)
    }

    /// Bytes queued in an HTTP/2 session for one stream (handed to the session and
    /// not yet written to the socket) above which the stream's writer is told to
    /// stop: an HTTP/2 client stream's `HTTP1ClientLeg` is paused (`.clientSlow`), an
    /// `HTTP2ClientLeg` (toward an h2 upstream) and `HTTP2TunnelStream` (RFC 8441
    /// tunnels, both sides) report themselves not writable.
    ///
    /// Why 256 KiB: 16 full DATA frames, twice the socket's high write watermark, so
    /// the session has frames ready whenever the socket can take more; more would
    /// only cost memory, for every stream of a connection.
    /// Worst case: 320 KiB per stream (the limit plus one read or one parser event),
    /// so ~32 MiB for a connection's 100 streams, whose peer windows allow it.
    public static let http2StreamSendQueue = 256 * 1024
}
