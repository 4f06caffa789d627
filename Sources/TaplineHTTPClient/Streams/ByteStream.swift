/// A bidirectional byte stream to one peer: plain TCP, TLS over TCP, an HTTP/2
/// stream carrying bytes, or a test's scripted double.
///
/// This is the seam between the I/O shell and the protocol handlers: handlers
/// see plaintext bytes and never know whether TLS, or a socket at all, is underneath.
///
/// Thread ownership: confined to `transport.loop`.
/// Retention: whoever set itself as `delegate` must keep the stream alive. The
/// socket streams (`PlainStream`, `TLSStream`) also hold their delegate until
/// they have passed on `didCloseWith`, which the loop always delivers; the
/// streams over an HTTP/2 stream hold it weakly, as their close depends on a
/// session that may be torn down without one.
public protocol ByteStream: AnyObject {
    var delegate: (any ByteStreamDelegate)? { get set }
    /// The connection under the stream: addresses, byte counts, identity.
    var transport: any ByteStreamTransport { get }
    /// False while more than the high watermark is queued for writing.
    var isWritable: Bool { get }
    /// Queues bytes (copied) for writing.
    func write(_ bytes: some Collection<UInt8>)
    /// Queues the bytes at `bytes` (copied before it returns) for writing, as `write`
    /// does: for bytes built in a temporary buffer. By default `write` itself.
    func write(copying bytes: UnsafeBufferPointer<UInt8>)
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

extension ByteStream {
    public func write(copying bytes: UnsafeBufferPointer<UInt8>) { write(bytes) }
}
