import TaplineFlow
import TaplineHTTP2
import TaplineNet

/// One HTTP/2 stream that carries a byte stream (RFC 8441 extended CONNECT:
/// WebSocket frames in DATA), presented as a `ByteStream` so a `WebSocketRelay`
/// can relay it like a socket: DATA in → `didRead`, `write` → DATA out,
/// END_STREAM ↔ EOF/`shutdownWrite`, RST_STREAM or the stream's close → `didCloseWith`.
///
/// It does no I/O itself: whoever runs the session's pump feeds it the stream's events
/// (`receive(_:)` for an event as the session delivers it, or `receive`, `receiveEnd`,
/// `streamClosed` one by one; `checkWritability` after each pump) and writes the
/// session's output when asked through `needsPump`. Two owners do: the proxy's
/// `HTTP2ProxyHandler` (the client's stream and an upstream's, RFC 8441 bridged), and
/// an upstream's `HTTP2StreamLeg` once its extended CONNECT was accepted
/// (`HTTP2StreamLeg.openByteStream`: the stream's events come here as its
/// `HTTP2UpstreamStreamDelegate`, and the leg's connection's pump is `needsPump`).
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
/// owned by whoever relays it (the proxy's `HTTP2WebSocketBridge`, a replayed WebSocket);
/// an `HTTP2StreamLeg` relaying to it holds it while its stream is open.
public final class HTTP2TunnelStream: ByteStream, HTTP2UpstreamStreamDelegate {
    public weak var delegate: (any ByteStreamDelegate)?
    public let session: HTTP2Session
    public let streamID: Int32
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

    public init(session: HTTP2Session, stream: Int32, transport: any ByteStream, closeGrace: Int,
                needsPump: @escaping () -> Void) {
        self.session = session
        self.streamID = stream
        self.carrier = transport
        self.closeGrace = closeGrace
        self.needsPump = needsPump
    }

    public var transport: any ByteStreamTransport { carrier.transport }

    public var isWritable: Bool {
        closed || (carrier.isWritable && session.bufferedBytes(stream: streamID) < Self.maxQueued)
    }

    // MARK: Stream events (from the owner)

    /// An event of the stream as the session delivers it: DATA, the peer's end
    /// (END_STREAM, or trailers ending it: only their end counts), a reset, the stream's
    /// close (a reset is reported as `HTTP2StreamResetError`). Heads and flow-control
    /// events are not the byte stream's: the owner handled the head before relaying.
    public func receive(_ event: HTTP2Event) {
        switch event {
        case .data(_, let bytes):
            receive(bytes)
        case .endStream, .headers(_, _, _, true), .oversizedHeaders(_, _, _, true, _):
            receiveEnd()
        case .streamReset(_, let code):
            streamClosed(error: HTTP2StreamResetError(code: code))
        case .streamClosed(_, let code):
            streamClosed(error: code == .noError ? nil : HTTP2StreamResetError(code: code))
        case .headers, .oversizedHeaders, .dataSent, .settings, .goAway:
            break
        }
    }

    /// DATA payload of the stream.
    public func receive(_ bytes: [UInt8]) {
        guard !closed else {
            session.consume(stream: streamID, count: bytes.count)
            return
        }
        undelivered.append(bytes)
        deliver()
    }

    /// The peer ended its side (END_STREAM).
    public func receiveEnd() {
        guard !closed else { return }
        undelivered.append(nil)
        deliver()
    }

    /// Called after the session's output was written: reports writability when it came
    /// back (the queue was framed, or the socket drained).
    public func checkWritability() {
        let writable = isWritable
        let cameBack = writable && !wasWritable
        wasWritable = writable // before the delegate runs: it may write and pump again
        if cameBack { delegate?.stream(self, writabilityChanged: true) }
    }

    /// The stream is gone (both ends closed, or reset either way): `error` is nil for a clean close.
    public func streamClosed(error: (any Error)?) {
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

    // MARK: HTTP2UpstreamStreamDelegate (relayed by an `HTTP2StreamLeg`)

    public func upstreamStream(_ stream: Int32, received event: HTTP2Event) {
        receive(event)
    }

    public func upstreamStream(_ stream: Int32, lost error: FlowError) {
        streamClosed(error: error)
    }

    // MARK: ByteStream

    /// False: every write becomes its own DATA chunk.
    public var coalescesSmallWrites: Bool { false }

    public func write(_ bytes: some Collection<UInt8>) {
        guard !closed, !writeEnded, !bytes.isEmpty else { return }
        session.send(data: Array(bytes), stream: streamID)
        if !isWritable { wasWritable = false }
        needsPump()
    }

    public func pauseReading() { readPaused = true }

    public func resumeReading() {
        guard readPaused else { return }
        readPaused = false
        deliver()
        needsPump()
    }

    public func shutdownWrite() {
        guard !closed, !writeEnded else { return }
        writeEnded = true
        session.finish(stream: streamID)
        needsPump()
    }

    /// Ends our side after the queued bytes; the stream closes when the peer ends its side
    /// too, or is reset (CANCEL) when it has not within `closeGrace`.
    public func closeAfterFlush() {
        shutdownWrite()
        guard !closed, closeTimer == nil else { return }
        closeTimer = transport.loop.scheduleTimer(milliseconds: closeGrace) { [weak self] in
            self?.closeTimer = nil
            self?.close()
        }
    }

    /// Resets the stream with CANCEL, dropping queued bytes; `didCloseWith` follows from the close event.
    public func close() {
        guard !closed else { return }
        closed = true
        returnCredit()
        session.reset(stream: streamID, code: .cancel)
        needsPump()
    }
}
