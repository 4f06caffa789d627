import TaplineNet

/// A `ByteStream` straight over a TCP connection. Holds its delegate until it
/// has passed on `didCloseWith`, like the connection holds the stream.
///
/// Thread ownership: confined to `connection.loop`.
public final class PlainStream: ByteStream, TCPConnectionDelegate {
    public let connection: TCPConnection
    public var delegate: (any ByteStreamDelegate)?

    public init(connection: TCPConnection) {
        self.connection = connection
        connection.delegate = self
    }

    public var transport: any ByteStreamTransport { connection }
    public var isWritable: Bool { connection.isWritable }
    public func write(_ bytes: some Collection<UInt8>) { connection.write(bytes) }
    public func write(copying bytes: UnsafeBufferPointer<UInt8>) { connection.write(copying: bytes) }
    public var coalescesSmallWrites: Bool { true }
    public func pauseReading() { connection.pauseReading() }
    public func resumeReading() { connection.resumeReading() }
    public func shutdownWrite() { connection.shutdownWrite() }
    public func closeAfterFlush() { connection.closeAfterFlush() }
    public func close() { connection.close() }

    public func connection(_ connection: TCPConnection, didRead bytes: ArraySlice<UInt8>) {
        delegate?.stream(self, didRead: bytes)
    }

    public func connectionDidReadEOF(_ connection: TCPConnection) {
        delegate?.streamDidReadEOF(self)
    }

    public func connectionPeerHungUpWhilePaused(_ connection: TCPConnection) {
        delegate?.streamPeerHungUpWhilePaused(self)
    }

    public func connection(_ connection: TCPConnection, writabilityChanged isWritable: Bool) {
        delegate?.stream(self, writabilityChanged: isWritable)
    }

    /// The stream now taking the socket over has the say; this one's delegate would
    /// never hear the close that makes it let go, so it lets go now.
    public func connectionWasHandedOver(_ connection: TCPConnection) {
        delegate = nil
    }

    public func connection(_ connection: TCPConnection, didCloseWith error: NetError?) {
        let delegate = self.delegate
        self.delegate = nil
        delegate?.stream(self, didCloseWith: error)
    }
}
