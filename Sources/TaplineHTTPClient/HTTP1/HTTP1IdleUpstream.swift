import TaplineNet

/// One idle keep-alive HTTP/1.1 upstream connection parked in an
/// `HTTP1UpstreamPool`. While parked nobody may speak on it, so anything it
/// reports (bytes, EOF, close) means it can no longer be reused: it is closed
/// and leaves the pool. It is also closed when its idle timer fires.
///
/// Invariant: between init and `checkOut()`/`discard()`, this object is the
/// stream's delegate and reading is on (so a close by the server is seen).
///
/// Thread ownership: confined to the loop of `connection`; retained by its pool.
final class HTTP1IdleUpstream: ByteStreamDelegate {
    let connection: UpstreamConnection
    private weak var pool: HTTP1UpstreamPool?
    private var timer: LoopTimer?

    init(connection: UpstreamConnection, pool: HTTP1UpstreamPool, loop: EventLoop, idleMilliseconds: Int) {
        self.connection = connection
        self.pool = pool
        connection.stream.delegate = self
        connection.stream.resumeReading()
        timer = loop.scheduleTimer(milliseconds: idleMilliseconds) { [weak self] in self?.discard() }
    }

    /// Hands the connection to a new exchange: stops watching it (the caller becomes its delegate).
    func checkOut() -> UpstreamConnection {
        timer?.cancel()
        timer = nil
        connection.stream.delegate = nil
        return connection
    }

    /// Closes the connection and removes it from the pool.
    func discard() {
        timer?.cancel()
        timer = nil
        connection.stream.delegate = nil
        connection.stream.close()
        pool?.remove(self)
    }

    // MARK: ByteStreamDelegate

    func stream(_ stream: any ByteStream, didRead bytes: ArraySlice<UInt8>) {
        discard() // an idle HTTP/1.1 server has nothing to say
    }

    func streamDidReadEOF(_ stream: any ByteStream) {
        discard()
    }

    func stream(_ stream: any ByteStream, writabilityChanged isWritable: Bool) {}

    func stream(_ stream: any ByteStream, didCloseWith error: (any Error)?) {
        discard()
    }
}
