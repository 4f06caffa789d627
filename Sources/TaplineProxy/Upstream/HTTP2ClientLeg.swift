import TaplineFlow
import TaplineHTTP2
import TaplineHTTPClient
import TaplineWire

/// An `HTTPClientLeg` over an HTTP/2 connection of its own (h2 over TLS, or h2c
/// with prior knowledge): each request is one stream, one at a time, translated at
/// message level (swift-nio-http2's `HTTP2ToHTTP1Codec` is the model): a head to
/// HEADERS (`HTTP2HeadTranslator.http2Request` for an HTTP/1.1 head), body to DATA
/// under the session's flow control, trailers to a trailing HEADERS; the response's
/// HEADERS, DATA and trailers to the delegate, its head as received
/// (`HTTP2HeadTranslator.capturedResponse`), with the HTTP/1.1 framing it implies.
///
/// Flow control: response DATA is credited back to the upstream only when the owner
/// says it wrote it on (`consumed`); while a `LegPauseReason` holds the leg, the
/// stream's events wait here in order, at most one stream window of DATA, as the
/// upstream may send no more without credit. `isWritable` is false while the stream
/// has `BufferLimits.http2StreamSendQueue` request bytes queued or the socket is above its watermark.
///
/// Failures: a stream the upstream resets, one the connection cannot open, or one
/// whose connection is lost, fails the request; the connection is then closed (the
/// owner opens a new one for its next request).
///
/// Thread ownership: confined to the connection's loop; owned by its owner, which it
/// holds weakly (`delegate`). It runs its connection's pump (it is its only owner).
final class HTTP2ClientLeg: HTTPClientLeg, HTTP2UpstreamConnectionOwner, HTTP2UpstreamStreamDelegate {
    private enum Phase {
        /// No stream in flight; the connection may carry one (`poolable`).
        case idle
        /// A stream was opened; its response has not ended.
        case exchanging
        /// The response ended before the whole request was sent, or the stream failed.
        case finished
        /// Cancelled, or the connection closed while idle.
        case detached
    }

    /// What waits while the leg is paused: a stream event, or the loss of the connection under it.
    private enum HeldEvent {
        case event(Int32, HTTP2Event)
        case lost(Int32, FlowError)
    }

    weak var delegate: (any HTTPClientLegDelegate)?
    let upstream: UpstreamConnection
    private var connection: HTTP2UpstreamConnection?
    private var phase = Phase.idle
    private var pauses = LegReadPauses()
    private var held: [HeldEvent] = []
    private var pumping = false
    private var pumpAgain = false
    private var wasWritable = true
    private(set) var reused = false

    // The stream in flight.
    private var stream: Int32?
    private var requestMethod = "GET"
    private var requestEnded = false
    private(set) var responseStarted = false
    /// The stream whose response DATA `unconsumed` counts (it outlives `stream`, which
    /// is cleared when the response ends, as the owner may consume after that).
    private var creditStream: Int32 = 0
    /// Response DATA bytes delivered and not yet credited back with `consumed`.
    private var unconsumed = 0

    /// Request bytes queued on the stream above which the leg is not writable.

    private init(upstream: UpstreamConnection) {
        self.upstream = upstream
    }

    /// A leg speaking HTTP/2 over `upstream` (it takes the connection's stream over).
    static func open(upstream: UpstreamConnection) throws(HTTP2SessionError) -> HTTP2ClientLeg {
        let leg = HTTP2ClientLeg(upstream: upstream)
        leg.connection = try HTTP2UpstreamConnection(upstream: upstream, owner: leg)
        return leg
    }

    var poolable: Bool { phase == .idle && connection?.canOpenStreams == true }

    var isWritable: Bool {
        guard let connection, !connection.closed else { return true } // writes are dropped; the loss is reported
        let queued = stream.map { connection.session.bufferedBytes(stream: $0) } ?? 0
        return upstream.stream.isWritable && queued < BufferLimits.http2StreamSendQueue
    }

    // MARK: Request

    func sendHead(_ head: LegRequestHead, endStream: Bool) {
        guard phase == .idle, let connection else { return }
        let fields: HTTPHeaders
        switch head {
        case .http1(let head):
            requestMethod = head.method
            fields = HTTP2HeadTranslator.http2Request(head, scheme: upstream.target.scheme.rawValue,
                                                      defaultAuthority: upstream.target.authority)
        case .http2(let block):
            requestMethod = head.method
            fields = block
        }
        phase = .exchanging
        requestEnded = endStream
        responseStarted = false
        do {
            let id = try connection.open(fields, endStream: endStream, delegate: self)
            stream = id
            creditStream = id
        } catch {
            fail(FlowError(.upstreamUnreachable, "\(upstream.target.hostPort) does not take another HTTP/2 stream: \(error)"))
            return
        }
        pump()
    }

    func sendBody(_ bytes: ArraySlice<UInt8>) {
        guard phase == .exchanging, !requestEnded, let stream, let connection else { return }
        connection.session.send(data: Array(bytes), stream: stream)
        pump()
    }

    func sendEnd(trailers: HTTPHeaders?) {
        guard phase == .exchanging, !requestEnded else { return }
        requestEnded = true
        guard let stream, let connection else { return }
        connection.session.finish(stream: stream, trailers: HTTP2HeadTranslator.http2Trailers(trailers))
        pump()
    }

    // MARK: Reading

    func pauseReading(_ reason: LegPauseReason) {
        _ = pauses.pause(reason)
    }

    func resumeReading(_ reason: LegPauseReason) {
        guard pauses.resume(reason) else { return }
        while !pauses.isPaused, !held.isEmpty {
            switch held.removeFirst() {
            case .event(let id, let event): handle(event, on: id)
            case .lost(let id, let error): lose(error, on: id)
            }
        }
        pump()
    }

    func consumed(_ count: Int) {
        let credit = min(count, unconsumed)
        guard credit > 0, let connection else { return }
        unconsumed -= credit
        connection.session.consume(stream: creditStream, count: credit)
    }

    // MARK: HTTP2UpstreamStreamDelegate

    func upstreamStream(_ id: Int32, received event: HTTP2Event) {
        if case .dataSent = event { return }
        if pauses.isPaused || !held.isEmpty {
            held.append(.event(id, event))
            return
        }
        handle(event, on: id)
    }

    func upstreamStream(_ id: Int32, lost error: FlowError) {
        if pauses.isPaused || !held.isEmpty {
            held.append(.lost(id, error))
            return
        }
        lose(error, on: id)
    }

    /// An event of stream `id`: only the stream in flight counts (an earlier stream's
    /// close may follow its end after the owner started the next request).
    private func handle(_ event: HTTP2Event, on id: Int32) {
        guard phase == .exchanging, id == stream, let delegate else { return }
        switch event {
        case .headers(_, let fields, .informational, _):
            started(delegate)
            delegate.leg(self, receivedHead: LegResponseHead(received: HTTP2HeadTranslator.capturedResponse(fields),
                                                             framing: .none, statedContentLength: nil))
        case .headers(_, let fields, .response, let endStream):
            started(delegate)
            let framing = HTTP2HeadTranslator.http1Framing(of: fields, requestMethod: requestMethod, endStream: endStream)
            delegate.leg(self, receivedHead: LegResponseHead(received: HTTP2HeadTranslator.capturedResponse(fields),
                                                             framing: framing, statedContentLength: nil))
            // A bodiless response (HEAD, 204, 304) is whole with its head, as in HTTP/1.1:
            // what the stream does after it (DATA nghttp2 refuses, a reset) no longer counts.
            if endStream || framing == .none, phase == .exchanging, stream == id { end(trailers: nil, delegate) }
        case .headers(_, let fields, _, _):
            end(trailers: fields, delegate)
        case .oversizedHeaders(_, _, let kind, _, let size):
            fail(HTTP2OversizedHeaders.upstreamError(kind: kind, size: size,
                                                     limit: connection?.session.settings.maxHeaderListSize ?? 0,
                                                     upstream: upstream.target.hostPort))
        case .data(_, let bytes):
            unconsumed += bytes.count
            delegate.leg(self, receivedBody: bytes[...])
        case .endStream:
            end(trailers: nil, delegate)
        case .streamReset(_, let code), .streamClosed(_, let code):
            stream = nil
            fail(FlowError(.upstreamAborted, "\(upstream.target.hostPort) reset the HTTP/2 stream with \(code)"))
        case .dataSent, .settings, .goAway:
            break
        }
    }

    private func started(_ delegate: any HTTPClientLegDelegate) {
        guard !responseStarted else { return }
        responseStarted = true
        delegate.legResponseStarted(self)
    }

    private func end(trailers: HTTPHeaders?, _ delegate: any HTTPClientLegDelegate) {
        stream = nil
        phase = requestEnded ? .idle : .finished
        reused = true // whatever comes next on this connection goes over a used one
        delegate.leg(self, receivedEnd: trailers)
    }

    /// The stream cannot go on: the request fails and the connection is closed.
    private func fail(_ error: FlowError) {
        guard phase == .exchanging else { return }
        phase = .finished
        if let stream { connection?.abandon(stream: stream, code: .cancel) }
        stream = nil
        connection?.close()
        delegate?.leg(self, failed: error)
    }

    /// The connection was lost under stream `id`.
    private func lose(_ error: FlowError, on id: Int32) {
        guard id == stream else { return }
        stream = nil
        fail(error)
    }

    // MARK: Letting go

    func cancel() {
        guard phase != .detached else { return }
        phase = .detached
        held = []
        if let stream { connection?.abandon(stream: stream, code: .cancel) }
        stream = nil
        connection?.close()
    }

    func takeOver() -> (stream: any ByteStream, unparsed: [UInt8])? { nil }

    // MARK: Pump and HTTP2UpstreamConnectionOwner

    /// Dispatches the connection's events and writes its output while the socket takes
    /// it; reentrant calls (from inside an event) only ask for another round.
    private func pump() {
        guard let connection else { return }
        if pumping {
            pumpAgain = true
            return
        }
        pumping = true
        repeat {
            pumpAgain = false
            connection.dispatchEvents()
            connection.flush()
        } while pumpAgain || connection.hasEvents
        pumping = false
        let writable = isWritable
        if writable, !wasWritable, phase == .exchanging {
            wasWritable = true
            delegate?.legBecameWritable(self)
        } else {
            wasWritable = writable
        }
    }

    func upstreamConnectionNeedsPump(_ connection: HTTP2UpstreamConnection) {
        pump()
        delegate?.legFinishedInput(self)
    }

    func upstreamConnection(_ connection: HTTP2UpstreamConnection, received event: HTTP2Event) {}

    /// Streams in flight were told (`lost`) first; an idle leg can carry nothing more.
    func upstreamConnectionClosed(_ connection: HTTP2UpstreamConnection) {
        if phase == .idle { phase = .detached }
    }
}
