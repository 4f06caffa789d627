import TaplineNet

/// A `ByteStream` straight over a TCP connection. Holds its delegate until it
/// has passed on `didCloseWith`, like the connection holds the stream.
///
/// Thread ownership: confined to `connection.loop`.
final class PlainStream: ByteStream, TCPConnectionDelegate {
    let connection: TCPConnection
    var delegate: (any ByteStreamDelegate)?

    init(connection: TCPConnection) {
        self.connection = connection
        connection.delegate = self
    }

    var isWritable: Bool { connection.isWritable }
    func write(_ bytes: some Collection<UInt8>) { connection.write(bytes) }
    var coalescesSmallWrites: Bool { true }
    func pauseReading() { connection.pauseReading() }
    func resumeReading() { connection.resumeReading() }
    func shutdownWrite() { connection.shutdownWrite() }
    func closeAfterFlush() { connection.closeAfterFlush() }
    func close() { connection.close() }

    func connection(_ connection: TCPConnection, didRead bytes: ArraySlice<UInt8>) {
        delegate?.stream(self, didRead: bytes)
    }

    func connectionDidReadEOF(_ connection: TCPConnection) {
        delegate?.streamDidReadEOF(self)
    }

    func connectionPeerHungUpWhilePaused(_ connection: TCPConnection) {
        delegate?.streamPeerHungUpWhilePaused(self)
    }

    func connection(_ connection: TCPConnection, writabilityChanged isWritable: Bool) {
        delegate?.stream(self, writabilityChanged: isWritable)
    }

    /// The stream now taking the socket over has the say; this one's delegate would
    /// never hear the close that makes it let go, so it lets go now.
    func connectionWasHandedOver(_ connection: TCPConnection) {
        delegate = nil
    }

    func connection(_ connection: TCPConnection, didCloseWith error: NetError?) {
        let delegate = self.delegate
        self.delegate = nil
        delegate?.stream(self, didCloseWith: error)
    }
}
