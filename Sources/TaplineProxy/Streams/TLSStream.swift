import TaplineNet
import TaplineTLS

/// A `ByteStream` that runs TLS (either role) over a TCP connection, through a
/// sans-I/O `TLSEngine`: ciphertext from the socket goes into the engine,
/// plaintext comes out to the delegate, and whatever the engine wants to send
/// is written to the socket after every step.
///
/// The handshake runs first; `onHandshakeComplete` is called exactly once, with
/// success or the TLS error, and only after success is the delegate told about
/// plaintext.
///
/// Retention: the TCP connection holds this stream, and this stream its
/// delegate, until `didCloseWith` has been delivered — which also keeps the
/// stream alive through its handshake, before anyone else holds it.
///
/// Thread ownership: confined to `connection.loop`.
final class TLSStream: ByteStream, TCPConnectionDelegate {
    let connection: TCPConnection
    let engine: TLSEngine
    var delegate: (any ByteStreamDelegate)?
    private var onHandshakeComplete: ((Result<TLSStream, TLSError>) -> Void)?
    private var closed = false
    private var sawEOF = false

    init(connection: TCPConnection, engine: TLSEngine,
         onHandshakeComplete: @escaping (Result<TLSStream, TLSError>) -> Void) {
        self.connection = connection
        self.engine = engine
        self.onHandshakeComplete = onHandshakeComplete
        connection.delegate = self
    }

    /// Starts the handshake; `initialCiphertext` holds bytes already read from
    /// the socket (a ClientHello peeked by protocol detection).
    func start(initialCiphertext: [UInt8] = []) {
        do {
            try engine.startHandshake()
            flushCiphertext()
            if !initialCiphertext.isEmpty {
                process(initialCiphertext[...])
            }
        } catch {
            fail(error)
        }
    }

    var isWritable: Bool { connection.isWritable }

    func write(_ bytes: some Collection<UInt8>) {
        guard !closed else { return }
        do {
            try engine.send(plaintext: bytes)
            flushCiphertext()
        } catch {
            fail(error)
        }
    }

    var coalescesSmallWrites: Bool { false }

    func pauseReading() { connection.pauseReading() }
    func resumeReading() { connection.resumeReading() }

    func shutdownWrite() {
        engine.close()
        flushCiphertext()
        connection.shutdownWrite()
    }

    func closeAfterFlush() {
        engine.close()
        flushCiphertext()
        connection.closeAfterFlush()
    }

    func close() { connection.close() }

    private func flushCiphertext() {
        let out = engine.takeOutgoingCiphertext()
        if !out.isEmpty { connection.write(out) }
    }

    private func process(_ ciphertext: ArraySlice<UInt8>) {
        let plaintext: [UInt8]
        do {
            plaintext = try engine.receive(ciphertext: ciphertext)
        } catch {
            flushCiphertext() // deliver our alert to the peer
            fail(error)
            return
        }
        flushCiphertext()
        if let completion = onHandshakeComplete, engine.state == .established {
            onHandshakeComplete = nil
            completion(.success(self))
        }
        if !plaintext.isEmpty, onHandshakeComplete == nil, !closed {
            delegate?.stream(self, didRead: plaintext[...])
        }
        if engine.peerClosed, !sawEOF, onHandshakeComplete == nil {
            sawEOF = true
            delegate?.streamDidReadEOF(self)
        }
    }

    private func fail(_ error: TLSError) {
        if let completion = onHandshakeComplete {
            onHandshakeComplete = nil
            connection.closeAfterFlush()
            completion(.failure(error))
        } else {
            connection.close()
        }
    }

    // MARK: TCPConnectionDelegate

    func connection(_ connection: TCPConnection, didRead bytes: ArraySlice<UInt8>) {
        process(bytes)
    }

    func connectionDidReadEOF(_ connection: TCPConnection) {
        if let completion = onHandshakeComplete {
            onHandshakeComplete = nil
            connection.close()
            completion(.failure(.handshakeFailed(reason: "peer closed the connection during the handshake", alert: nil)))
            return
        }
        if !sawEOF {
            sawEOF = true
            delegate?.streamDidReadEOF(self)
        }
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
        closed = true
        if let completion = onHandshakeComplete {
            onHandshakeComplete = nil
            completion(.failure(.handshakeFailed(reason: error?.description ?? "connection closed during the handshake", alert: nil)))
            return
        }
        let delegate = self.delegate
        self.delegate = nil
        delegate?.stream(self, didCloseWith: error)
    }
}
