import TaplineHTTP2
import TaplineHTTPClient
import TaplineNet

/// One HTTP/2 stream that carries a byte stream (RFC 8441 extended CONNECT:
/// WebSocket frames in DATA), presented as a `ByteStream` so a `WebSocketRelay`
/// can relay it like a socket: DATA in → `didRead`, `write` → DATA out,
/// END_STREAM ↔ EOF/`shutdownWrite`, RST_STREAM or the stream's close → `didCloseWith`.
///
/// It does no I/O itself: its owner (an `HTTP2ProxyHandler`) feeds it the stream's
/// events (`receive`, `receiveEnd`, `streamClosed`; `checkWritability` after each pump) and writes the
/// session's output when asked through `needsPump`.
///
/// Flow control: received DATA is credited back to the peer (`consume`) only once
/// handed to the delegate while it is reading; while it has paused reading (the
/// other side cannot take more) or before it exists, DATA waits here uncredited,
/// so at most one stream window is held. `isWritable` is false while 256 KiB are
/// queued for the stream or the connection's socket is above its watermark;
/// `writabilityChanged(true)` follows when framing drained it.
///
/// Invariants: `didCloseWith` is delivered once, never from inside a method the
/// delegate called (a reset is reported when the session's close event arrives);
/// nothing is written after `shutdownWrite`/`close`.
///
/// Thread ownership: confined to the loop of the connection carrying the session;
/// owned by the `HTTP2StreamExchange` whose stream it is (client leg or upstream leg).
final class HTTP2TunnelStream: ByteStream {
    weak var delegate: (any ByteStreamDelegate)?
    let session: HTTP2Session
    let streamID: Int32
    /// The socket stream carrying the session.
    private let carrier: any ByteStream
    /// Asks the session's owner to take and write output.
    private let needsPump: () -> Void
    /// After `closeAfterFlush`, how long the peer has to end its side before the stream is reset (ms).
    private let closeGrace: Int
    private var closeTimer: LoopTimer?
    /// Received and not yet delivered: DATA (with its credit) or the peer's END_STREAM (nil).
    private var undelivered: [[UInt8]?] = []
    private var readPaused = true
    private var writeEnded = false
    private var closed = false
    private var reportedClose = false
    private var wasWritable = true
    static let maxQueued = HTTPClientBufferLimits.http2StreamSendQueue

    init(session: HTTP2Session, stream: Int32, transport: any ByteStream, closeGrace: Int,
         needsPump: @escaping () -> Void) {
        self.session = session
        self.streamID = stream
        self.carrier = transport
        self.closeGrace = closeGrace
        self.needsPump = needsPump
    }

    var transport: any ByteStreamTransport { carrier.transport }

    var isWritable: Bool {
        closed || (carrier.isWritable && session.bufferedBytes(stream: streamID) < Self.maxQueued)
    }

    // MARK: Stream events (from the owner)

    /// DATA payload of the stream.
    func receive(_ bytes: [UInt8]) {
        guard !closed else {
            session.consume(stream: streamID, count: bytes.count)
            return
        }
        undelivered.append(bytes)
        deliver()
    }

    /// The peer ended its side (END_STREAM).
    func receiveEnd() {
        guard !closed else { return }
        undelivered.append(nil)
        deliver()
    }

    /// Called after the session's output was written: reports writability when it came
    /// back (the queue was framed, or the socket drained).
    func checkWritability() {
        let writable = isWritable
        let cameBack = writable && !wasWritable
        wasWritable = writable // before the delegate runs: it may write and pump again
        if cameBack { delegate?.stream(self, writabilityChanged: true) }
    }

    /// The stream is gone (both ends closed, or reset either way): `error` is nil for a clean close.
    func streamClosed(error: (any Error)?) {
        closeTimer?.cancel()
        closeTimer = nil
        if !closed {
            closed = true
            returnCredit()
        }
        guard !reportedClose else { return }
        reportedClose = true
        delegate?.stream(self, didCloseWith: error)
    }

    /// Credit for DATA that will never be delivered.
    private func returnCredit() {
        let count = undelivered.reduce(0) { $0 + ($1?.count ?? 0) }
        undelivered = []
        session.consume(stream: streamID, count: count)
    }

    private func deliver() {
        while !readPaused, !undelivered.isEmpty {
            let item = undelivered.removeFirst()
            if let bytes = item {
                session.consume(stream: streamID, count: bytes.count)
                delegate?.stream(self, didRead: bytes[...])
            } else {
                delegate?.streamDidReadEOF(self)
            }
        }
    }

    // MARK: ByteStream

    /// False: every write becomes its own DATA chunk.
    var coalescesSmallWrites: Bool { false }

    func write(_ bytes: some Collection<UInt8>) {
        guard !closed, !writeEnded, !bytes.isEmpty else { return }
        session.send(data: Array(bytes), stream: streamID)
        if !isWritable { wasWritable = false }
        needsPump()
    }

    func pauseReading() { readPaused = true }

    func resumeReading() {
        guard readPaused else { return }
        readPaused = false
        deliver()
        needsPump()
    }

    func shutdownWrite() {
        guard !closed, !writeEnded else { return }
        writeEnded = true
        session.finish(stream: streamID)
        needsPump()
    }

    /// Ends our side after the queued bytes; the stream closes when the peer ends its side
    /// too, or is reset (CANCEL) when it has not within `closeGrace`.
    func closeAfterFlush() {
        shutdownWrite()
        guard !closed, closeTimer == nil else { return }
        closeTimer = transport.loop.scheduleTimer(milliseconds: closeGrace) { [weak self] in
            self?.closeTimer = nil
            self?.close()
        }
    }

    /// Resets the stream with CANCEL, dropping queued bytes; `didCloseWith` follows from the close event.
    func close() {
        guard !closed else { return }
        closed = true
        returnCredit()
        session.reset(stream: streamID, code: .cancel)
        needsPump()
    }
}
