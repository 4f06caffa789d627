import TaplineNet

/// A delegate whose reactions are closures set by a test, and which records
/// every callback (and any callback that arrives after the close). Confined to
/// its connection's loop.
final class ScriptedHandler: TCPConnectionDelegate, @unchecked Sendable {
    var onRead: ((TCPConnection, ArraySlice<UInt8>) -> Void)?
    var onEOF: ((TCPConnection) -> Void)?
    var onHangUpWhilePaused: ((TCPConnection) -> Void)?
    var onWritability: ((TCPConnection, Bool) -> Void)?
    var onClose: ((TCPConnection, NetError?) -> Void)?

    private(set) var readCount = 0
    private(set) var bytes: [UInt8] = []
    private(set) var sawEOF = false
    private(set) var hangUpsWhilePaused = 0
    private(set) var writabilityEvents: [Bool] = []
    private(set) var closeErrors: [NetError?] = []
    private(set) var callbacksAfterClose = 0

    func connection(_ connection: TCPConnection, didRead bytes: ArraySlice<UInt8>) {
        if !closeErrors.isEmpty { callbacksAfterClose += 1 }
        readCount += 1
        self.bytes.append(contentsOf: bytes)
        onRead?(connection, bytes)
    }

    func connectionDidReadEOF(_ connection: TCPConnection) {
        if !closeErrors.isEmpty { callbacksAfterClose += 1 }
        sawEOF = true
        onEOF?(connection)
    }

    func connectionPeerHungUpWhilePaused(_ connection: TCPConnection) {
        if !closeErrors.isEmpty { callbacksAfterClose += 1 }
        hangUpsWhilePaused += 1
        onHangUpWhilePaused?(connection)
    }

    func connection(_ connection: TCPConnection, writabilityChanged isWritable: Bool) {
        if !closeErrors.isEmpty { callbacksAfterClose += 1 }
        writabilityEvents.append(isWritable)
        onWritability?(connection, isWritable)
    }

    func connection(_ connection: TCPConnection, didCloseWith error: NetError?) {
        if !closeErrors.isEmpty { callbacksAfterClose += 1 }
        closeErrors.append(error)
        onClose?(connection, error)
    }
}
