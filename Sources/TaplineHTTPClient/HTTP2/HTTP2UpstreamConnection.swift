import TaplineFlow
import TaplineHTTP2
import TaplineWire

/// An HTTP/2 connection to an upstream (h2 over TLS, or h2c with prior
/// knowledge): a client-role `HTTP2Session` over an `UpstreamConnection`,
/// shared by the streams of one client connection.
///
/// It never dispatches on its own: when input arrives it asks its owner to run
/// the pump, which calls `dispatchEvents()` and `flush()`. Stream events go to
/// the stream's delegate; SETTINGS and GOAWAY to the owner.
///
/// Invariants: `streams` holds exactly the open streams this connection
/// opened; after `closed` no stream is opened and every delegate has been told
/// `lost` once. Output is taken only while the socket is writable, so at most
/// one `writeOutput` batch sits above the write watermark.
///
/// Thread ownership: confined to the upstream connection's loop; owned by its owner.
public final class HTTP2UpstreamConnection: ByteStreamDelegate {
    public let upstream: UpstreamConnection
    public let session: HTTP2Session
    public weak var owner: (any HTTP2UpstreamConnectionOwner)?
    private var streams = HTTP2StreamMap<any HTTP2UpstreamStreamDelegate>()
    public private(set) var closed = false
    /// A GOAWAY arrived (or we sent one): no new streams on this connection.
    public private(set) var goingAway = false
    /// Streams opened so far (the first stream's upstream is "new", later ones "reused").
    public private(set) var streamsOpened = 0
    /// The upstream's first SETTINGS arrived (so `session.peerEnablesConnectProtocol` is known).
    public private(set) var receivedSettings = false
    /// The array `dispatchEvents` takes the session's events into, emptied and kept
    /// between rounds (its storage goes back and forth with the session's queue); empty
    /// while a round runs, so a round started from inside an event uses a new one.
    private var spareEventBatch: [HTTP2Event] = []

    public init(upstream: UpstreamConnection, owner: any HTTP2UpstreamConnectionOwner) throws(HTTP2SessionError) {
        self.upstream = upstream
        self.owner = owner
        self.session = try HTTP2Session(role: .client)
        upstream.stream.delegate = self
        upstream.stream.resumeReading()
    }

    public var canOpenStreams: Bool { !closed && !goingAway && session.wantsRead }
    public var hasEvents: Bool { session.hasEvents }
    public var openStreamCount: Int { streams.count }

    /// Opens a stream for `fields`; its events go to `delegate`.
    public func open(_ fields: HTTPHeaders, endStream: Bool, delegate: any HTTP2UpstreamStreamDelegate) throws(HTTP2SessionError) -> Int32 {
        let id = try session.submitRequest(fields, endStream: endStream)
        streams[id] = delegate
        streamsOpened += 1
        return id
    }

    /// Stops following a stream (its client side went away); resets it when still open.
    public func abandon(stream id: Int32, code: HTTP2ErrorCode) {
        guard streams.removeValue(forKey: id) != nil else { return }
        session.reset(stream: id, code: code)
    }

    /// Delivers queued events; returns whether there were any.
    @discardableResult
    public func dispatchEvents() -> Bool {
        var events: [HTTP2Event] = []
        swap(&events, &spareEventBatch)
        session.takeEvents(into: &events)
        defer {
            events.removeAll(keepingCapacity: true)
            swap(&events, &spareEventBatch)
        }
        for event in events {
            switch event {
            case .settings, .goAway:
                if case .goAway = event { goingAway = true } else { receivedSettings = true }
                owner?.upstreamConnection(self, received: event)
            case .streamReset(let id, _):
                // The stream is over for us: no RST back, and its close event goes nowhere.
                streams.removeValue(forKey: id)?.upstreamStream(id, received: event)
            case .headers(let id, _, _, _), .oversizedHeaders(let id, _, _, _, _), .data(let id, _), .endStream(let id),
                 .dataSent(let id, _):
                if let delegate = streams[id] {
                    delegate.upstreamStream(id, received: event)
                } else if case .data(_, let bytes) = event {
                    session.consume(stream: id, count: bytes.count) // nobody wants it: give the credit back
                }
            case .streamClosed(let id, _):
                streams.removeValue(forKey: id)?.upstreamStream(id, received: event)
            }
        }
        return !events.isEmpty
    }

    /// Writes queued frames while the socket takes them; closes when the session is finished.
    public func flush() {
        guard !closed else { return }
        let stream = upstream.stream
        let gathered = !stream.coalescesSmallWrites
        while stream.isWritable, session.writeOutput(gathered: gathered, to: { stream.write($0) }) {}
        if session.isFinished { upstream.stream.closeAfterFlush() }
    }

    /// Graceful close: GOAWAY, then close once written.
    public func close() {
        guard !closed else { return }
        goingAway = true
        session.goAway(code: .noError)
        let stream = upstream.stream
        session.writeOutput(gathered: !stream.coalescesSmallWrites) { stream.write($0) }
        stream.closeAfterFlush()
    }

    public func pauseReading() { upstream.stream.pauseReading() }
    public func resumeReading() { upstream.stream.resumeReading() }

    // MARK: ByteStreamDelegate

    public func stream(_ stream: any ByteStream, didRead bytes: ArraySlice<UInt8>) {
        if session.receive(bytes) != nil { goingAway = true }
        owner?.upstreamConnectionNeedsPump(self)
    }

    public func streamDidReadEOF(_ stream: any ByteStream) {
        stream.close()
    }

    public func stream(_ stream: any ByteStream, writabilityChanged isWritable: Bool) {
        if isWritable { owner?.upstreamConnectionNeedsPump(self) }
    }

    public func stream(_ stream: any ByteStream, didCloseWith error: (any Error)?) {
        closed = true
        // Events already parsed (a final DATA, a GOAWAY) still count.
        dispatchEvents()
        let lostError = lossError(socketError: error)
        let lost = streams
        streams.removeAll()
        for (id, delegate) in lost.entriesByID {
            delegate.upstreamStream(id, lost: lostError)
        }
        owner?.upstreamConnectionClosed(self)
    }

    /// What the streams still open when the connection closed are told: a `bad-response`
    /// when the upstream broke HTTP/2 (the session ended with a connection error and our
    /// GOAWAY), else `upstream-aborted` (it closed, or the socket failed with `socketError`).
    private func lossError(socketError: (any Error)?) -> FlowError {
        let host = upstream.target.hostPort
        if case .connectionError(let code, let reason)? = session.failure {
            return FlowError(.badResponse,
                "\(host) broke HTTP/2, so Tapline ended the connection with GOAWAY \(code.name): \(reason)")
        }
        let detail = socketError.map { ": \($0)" } ?? ""
        return FlowError(.upstreamAborted, "\(host) closed the HTTP/2 connection before the stream was complete\(detail)")
    }
}
