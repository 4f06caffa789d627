/// A connected non-blocking TCP socket on one event loop, with a write buffer.
///
/// Writes never block and never fail synchronously: bytes are queued and
/// flushed as the socket allows. Above `highWatermark` queued bytes the
/// connection reports itself not writable (and the proxy stops reading the
/// other side); below `lowWatermark` it becomes writable again.
///
/// Thread ownership: confined to `loop`.
public final class TCPConnection {
    public let loop: EventLoop
    public weak var delegate: (any TCPConnectionDelegate)?
    public let localAddress: SocketAddress
    public let remoteAddress: SocketAddress
    public var highWatermark: Int = 256 * 1024
    public var lowWatermark: Int = 64 * 1024

    init(loop: EventLoop, local: SocketAddress, remote: SocketAddress) {
        self.loop = loop
        self.localAddress = local
        self.remoteAddress = remote
    }

    /// Connects to `address` without blocking; `completion` runs on `loop`.
    /// Fails with `.connectTimeout` after `timeoutMilliseconds`.
    public static func connect(loop: EventLoop, to address: SocketAddress, timeoutMilliseconds: Int,
                               completion: @escaping (Result<TCPConnection, NetError>) -> Void) {}

    /// Bytes queued but not yet written to the socket.
    public var bufferedWriteBytes: Int { 0 }
    public var isWritable: Bool { bufferedWriteBytes < highWatermark }

    /// Queues bytes for writing.
    public func write(_ bytes: some Collection<UInt8>) {}

    /// Stops / resumes delivering `didRead` (and reading the socket at all).
    public func pauseReading() {}
    public func resumeReading() {}
    public var isReadingPaused: Bool { false }

    /// Half-close: sends FIN once the write buffer has drained.
    public func shutdownWrite() {}

    /// Closes now, discarding unwritten bytes (RST is not forced).
    public func close() {}

    /// Closes once the write buffer has drained.
    public func closeAfterFlush() {}

    /// Total bytes read from / written to the socket.
    public var bytesRead: UInt64 { 0 }
    public var bytesWritten: UInt64 { 0 }
}
