import TaplineNet

/// Echoes everything back with backpressure (pauses reading while its own
/// connection is not writable), half-closes after the peer's EOF, and records
/// what it saw. Confined to its connection's loop.
final class EchoServerHandler: TCPConnectionDelegate {
    var checksum = StreamChecksum()
    var closeErrors: [NetError?] = []
    var onClose: ((EchoServerHandler) -> Void)?

    func connection(_ connection: TCPConnection, didRead bytes: ArraySlice<UInt8>) {
        checksum.update(bytes)
        connection.write(bytes)
    }

    func connectionDidReadEOF(_ connection: TCPConnection) {
        connection.shutdownWrite()
    }

    func connection(_ connection: TCPConnection, writabilityChanged isWritable: Bool) {
        if isWritable { connection.resumeReading() } else { connection.pauseReading() }
    }

    func connection(_ connection: TCPConnection, didCloseWith error: NetError?) {
        closeErrors.append(error)
        onClose?(self)
    }
}
