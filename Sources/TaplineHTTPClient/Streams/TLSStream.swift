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
/// No decrypted byte is dropped. The engine decrypts whatever a socket read holds,
/// so the read that completes the handshake can also carry application data: a
/// TLS 1.2 server's last flight (ChangeCipherSpec, Finished) is followed at once
/// by an h2 server's SETTINGS, often in the same segment. Its owner may not exist
/// yet then (an intercepted upstream waits, paused, for the client's handshake).
/// Plaintext (and the peer's close_notify after it) that arrives while there is no
/// delegate or reading is paused is held, and the socket stays paused while anything
/// is held, so nothing read later can overtake it. It is delivered on the loop's next
/// iteration after `resumeReading()` (then the socket is read again), as a paused
/// `PlainStream` leaves unread bytes in the socket until then. Once the owner calls
/// `close()` or `closeAfterFlush()`, held input is dropped and it hears nothing
/// more but `didCloseWith`, even though the socket's close is reported later.
///
/// Retention: the TCP connection holds this stream, and this stream its
/// delegate, until `didCloseWith` has been delivered — which also keeps the
/// stream alive through its handshake, before anyone else holds it.
///
/// Thread ownership: confined to `connection.loop`.
public final class TLSStream: ByteStream, TCPConnectionDelegate {
    public let connection: TCPConnection
    public let engine: TLSEngine
    public var delegate: (any ByteStreamDelegate)?
    private var onHandshakeComplete: ((Result<TLSStream, TLSError>) -> Void)?
    /// `didCloseWith` was delivered: the socket is gone.
    private var closed = false
    /// The owner called `close()` or `closeAfterFlush()`. The socket's close is
    /// reported later (after the loop phase it happened in), but from this call on
    /// the owner hears nothing but `didCloseWith`: no held or newly decrypted
    /// plaintext, no EOF.
    private var closedByOwner = false
    private var sawEOF = false
    /// The delegate's last word: `pauseReading()` (true) or `resumeReading()`. The
    /// socket is also paused while input is held, whatever this says.
    private var readingPausedByOwner = false
    /// Decrypted bytes nobody could take yet (see the type's comment).
    private var heldPlaintext: [UInt8] = []
    /// The peer's close_notify arrived after `heldPlaintext`: reported after it.
    private var heldEOF = false
    /// A delivery of the held input is scheduled for the loop's next iteration.
    private var heldDeliveryScheduled = false

    public init(connection: TCPConnection, engine: TLSEngine,
         onHandshakeComplete: @escaping (Result<TLSStream, TLSError>) -> Void) {
        self.connection = connection
        self.engine = engine
        self.onHandshakeComplete = onHandshakeComplete
        connection.delegate = self
    }

    /// Starts the handshake; `initialCiphertext` holds bytes already read from
    /// the socket (a ClientHello peeked by protocol detection).
    public func start(initialCiphertext: [UInt8] = []) {
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

    public var transport: any ByteStreamTransport { connection }

    public var isWritable: Bool { connection.isWritable }

    public func write(_ bytes: some Collection<UInt8>) {
        guard !closed else { return }
        do {
            try engine.send(plaintext: bytes)
            flushCiphertext()
        } catch {
            fail(error)
        }
    }

    public var coalescesSmallWrites: Bool { false }

    public func pauseReading() {
        readingPausedByOwner = true
        connection.pauseReading()
    }

    public func resumeReading() {
        readingPausedByOwner = false
        if hasHeldInput {
            scheduleHeldDelivery()  // the socket resumes once the held input is delivered
        } else {
            connection.resumeReading()
        }
    }

    public func shutdownWrite() {
        engine.close()
        flushCiphertext()
        connection.shutdownWrite()
    }

    public func closeAfterFlush() {
        dropInputForClosingOwner()
        engine.close()
        flushCiphertext()
        connection.closeAfterFlush()
    }

    public func close() {
        dropInputForClosingOwner()
        connection.close()
    }

    /// The owner is done reading: what is held (and what a scheduled delivery
    /// would hand over) is discarded.
    private func dropInputForClosingOwner() {
        closedByOwner = true
        heldPlaintext = []
        heldEOF = false
    }

    /// Whether the delegate may still be told about input.
    private var deliversInput: Bool { !closed && !closedByOwner }

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
        guard onHandshakeComplete == nil, deliversInput else { return }
        let peerClosedNow = engine.peerClosed && !sawEOF && !heldEOF
        guard !plaintext.isEmpty || peerClosedNow else { return }
        if delegate == nil || readingPausedByOwner || hasHeldInput {
            heldPlaintext.append(contentsOf: plaintext)
            heldEOF = heldEOF || peerClosedNow
            connection.pauseReading()
            return
        }
        if !plaintext.isEmpty { delegate?.stream(self, didRead: plaintext[...]) }
        if peerClosedNow {
            sawEOF = true
            delegate?.streamDidReadEOF(self)
        }
    }

    private var hasHeldInput: Bool { !heldPlaintext.isEmpty || heldEOF }

    /// Delivers the held input on the next iteration, never from inside
    /// `resumeReading()`: its caller may still be setting itself up.
    private func scheduleHeldDelivery() {
        guard !heldDeliveryScheduled else { return }
        heldDeliveryScheduled = true
        connection.loop.scheduleTimer(milliseconds: 0) { [self] in
            heldDeliveryScheduled = false
            deliverHeldInput()
        }
    }

    /// Hands the held plaintext, then the held EOF, to the delegate and reads the
    /// socket again; stops where the delegate pauses reading (the next
    /// `resumeReading()` schedules another delivery).
    private func deliverHeldInput() {
        guard deliversInput, !readingPausedByOwner, let delegate else { return }
        if !heldPlaintext.isEmpty {
            let bytes = heldPlaintext
            heldPlaintext = []
            delegate.stream(self, didRead: bytes[...])
        }
        guard deliversInput, !readingPausedByOwner else { return }
        if heldEOF {
            heldEOF = false
            sawEOF = true
            self.delegate?.streamDidReadEOF(self)
        }
        if deliversInput, !readingPausedByOwner { connection.resumeReading() }
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

    public func connection(_ connection: TCPConnection, didRead bytes: ArraySlice<UInt8>) {
        process(bytes)
    }

    public func connectionDidReadEOF(_ connection: TCPConnection) {
        if let completion = onHandshakeComplete {
            onHandshakeComplete = nil
            connection.close()
            completion(.failure(.handshakeFailed(reason: "peer closed the connection during the handshake", alert: nil)))
            return
        }
        guard deliversInput else { return }
        if hasHeldInput {
            heldEOF = true  // after the held plaintext
        } else if !sawEOF {
            sawEOF = true
            delegate?.streamDidReadEOF(self)
        }
    }

    /// The socket is paused (by the owner, or while input is held): the peer's FIN
    /// came after ciphertext not read yet, perhaps its close_notify. A FIN during the
    /// handshake is left to be read: the handshake's failure reports it.
    public func connectionPeerHungUpWhilePaused(_ connection: TCPConnection) {
        guard onHandshakeComplete == nil, deliversInput else { return }
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
        closed = true
        heldPlaintext = []
        heldEOF = false
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
