import TaplineNet

/// A bidirectional byte stream to one peer, plain TCP or TLS over TCP.
///
/// This is the seam between the I/O shell and the protocol handlers: handlers
/// see plaintext bytes and never know whether TLS is underneath.
///
/// Thread ownership: confined to the event loop of its TCP connection.
/// Retention: whoever set itself as `delegate` must keep the stream alive. The
/// socket streams (`PlainStream`, `TLSStream`) also hold their delegate until
/// they have passed on `didCloseWith`, which the loop always delivers; the
/// streams over an HTTP/2 stream hold it weakly, as their close depends on a
/// session that may be torn down without one.
public protocol ByteStream: AnyObject {
    var delegate: (any ByteStreamDelegate)? { get set }
    /// The underlying socket (addresses, counters, loop).
    var connection: TCPConnection { get }
    /// False while more than the high watermark is queued for writing.
    var isWritable: Bool { get }
    /// Queues bytes (copied) for writing.
    func write(_ bytes: some Collection<UInt8>)
    /// True when many small writes cost about what one large write does (a plain
    /// socket's queue coalesces them); false when each write has its own cost (TLS
    /// seals every write into records), so callers should gather small pieces first.
    var coalescesSmallWrites: Bool { get }
    func pauseReading()
    func resumeReading()
    /// Sends our end of the stream (FIN, after close_notify for TLS) once writes drain.
    func shutdownWrite()
    /// Closes once queued bytes are written.
    func closeAfterFlush()
    /// Closes now, discarding queued bytes.
    func close()
}

/// Receives a `ByteStream`'s events on its loop thread.
public protocol ByteStreamDelegate: AnyObject {
    func stream(_ stream: any ByteStream, didRead bytes: ArraySlice<UInt8>)
    func streamDidReadEOF(_ stream: any ByteStream)
    /// The peer's FIN arrived while reading was paused (`TCPConnection`'s
    /// `connectionPeerHungUpWhilePaused`): what it sent before may not have been
    /// delivered yet; it, then `streamDidReadEOF`, follows once reading resumes.
    /// At most once; only the socket streams say it.
    func streamPeerHungUpWhilePaused(_ stream: any ByteStream)
    func stream(_ stream: any ByteStream, writabilityChanged isWritable: Bool)
    /// Called exactly once; `error` is nil for an orderly close.
    func stream(_ stream: any ByteStream, didCloseWith error: (any Error)?)
}

extension ByteStreamDelegate {
    /// By default the hang-up waits to be read as `streamDidReadEOF` after `resumeReading()`.
    public func streamPeerHungUpWhilePaused(_ stream: any ByteStream) {}
}
