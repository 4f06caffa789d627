import TaplineNet

/// Connects, writes `payload`, half-closes, and collects everything it reads
/// until the connection closes. Confined to `loop`.
final class StreamClient: TCPConnectionDelegate, @unchecked Sendable {
    let loop: EventLoop
    private(set) var connection: TCPConnection?
    var received = StreamChecksum()
    var receivedBytes: [UInt8] = []
    var keepBytes = false
    var sawEOF = false
    var closeErrors: [NetError?] = []
    var callbacksAfterClose = 0
    var onClose: ((StreamClient) -> Void)?
    var onConnectFailure: ((NetError) -> Void)?

    init(loop: EventLoop) { self.loop = loop }

    /// Loop thread only.
    func start(to address: SocketAddress, payload: [UInt8], halfClose: Bool) {
        TCPConnection.connect(loop: loop, to: address, timeoutMilliseconds: 5000) { result in
            switch result {
            case .success(let connection):
                self.connection = connection
                connection.delegate = self
                connection.write(payload)
                if halfClose { connection.shutdownWrite() }
            case .failure(let error):
                self.onConnectFailure?(error)
            }
        }
    }

    func connection(_ connection: TCPConnection, didRead bytes: ArraySlice<UInt8>) {
        if !closeErrors.isEmpty { callbacksAfterClose += 1 }
        received.update(bytes)
        if keepBytes { receivedBytes.append(contentsOf: bytes) }
    }

    func connectionDidReadEOF(_ connection: TCPConnection) {
        if !closeErrors.isEmpty { callbacksAfterClose += 1 }
        sawEOF = true
    }

    func connection(_ connection: TCPConnection, writabilityChanged isWritable: Bool) {}

    func connection(_ connection: TCPConnection, didCloseWith error: NetError?) {
        closeErrors.append(error)
        onClose?(self)
    }
}
