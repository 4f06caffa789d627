/// How many bytes the proxy holds for one connection, stream or event loop before it
/// stops reading the side that sends them (docs/architecture.md, "Backpressure").
/// The limits an upstream leg applies (a parser's input, a stream's send queue) are
/// `HTTPClientBufferLimits` (TaplineHTTPClient), which the proxy's own parsers and
/// HTTP/2 streams use too.
///
/// Together with the HTTP/2 receive windows (`HTTP2SessionSettings`: 1 MiB a stream,
/// 16 MiB a connection, 100 streams) and the capture writer's queue (4 MiB high, 1 MiB
/// low, set by `tapline proxy`), these bound the proxy's memory whatever the body sizes.
///
/// "One read" below is at most 64 KiB (`EventLoop.readBuffer`): a limit is checked
/// before a read is handed on, so a holder can pass its limit by one read.
///
/// Constants, not settings: the RSS budgets of the integration tests (peak RSS under
/// 64 MB for 50 concurrent 1 MiB downloads, test_forward_http.py) were measured with them.
enum BufferLimits {
    /// Encoded capture data (event lines and body bytes) one event loop stages in its
    /// sink before handing it to the capture writer at once instead of at the end of
    /// the loop iteration (`ProxyContext.record`).
    ///
    /// Why 256 KiB: many sockets ready in one iteration, each read up to 64 KiB, must
    /// not stage megabytes out of sight of the capture writer's watermarks; and a
    /// busy iteration should take the writer's lock a few times, not once a socket.
    /// Worst case: the limit plus one event (one read of body) per event loop.
    static let captureStagingPerLoop = 256 * 1024

    /// Client bytes a CONNECT tunnel (`ConnectTunnelHandler`) holds while it finds out
    /// what the client speaks and connects the upstream: past it, a client that is
    /// still not recognised is relayed as a raw tunnel, and one whose upstream is still
    /// connecting is no longer read.
    ///
    /// Why 64 KiB: room for a TLS ClientHello (a few KiB, at most four 16 KiB records
    /// in practice) or a request head, and one read. Worst case: 128 KiB per tunnel.
    static let connectTunnelPending = 64 * 1024

    /// A socket's write buffer above which it reports itself not writable, so the
    /// side feeding it is no longer read (`TCPConnection.highWatermark`; the default
    /// of `ProxyConfiguration.writeHighWatermark`).
    ///
    /// Why 128 KiB: two reads' worth keeps the socket busy while the other side is
    /// read again, and 50 concurrent 1 MiB downloads stayed under the 64 MB RSS
    /// budget with it. Worst case: 192 KiB per socket (the limit plus one write).
    static let socketWriteHighWatermark = 128 * 1024

    /// A socket that stopped being writable is writable again once its write buffer
    /// has drained to this (`TCPConnection.lowWatermark`; the default of
    /// `ProxyConfiguration.writeLowWatermark`).
    ///
    /// Why 32 KiB: a quarter of the high watermark, so readers are not resumed and
    /// paused again for every small drain, while the socket still has bytes to send
    /// when they are.
    static let socketWriteLowWatermark = 32 * 1024
}
