import TaplineFlow
import TaplineHTTP2
import TaplineWire

/// An `HTTPClientLeg` over an HTTP/2 connection of its own (h2 over TLS, or h2c
/// with prior knowledge), for an owner that speaks HTTP/1.1: each request is one
/// `HTTP2StreamLeg` on that connection, one at a time, which translates at message
/// level (swift-nio-http2's `HTTP2ToHTTP1Codec` is the model). This leg adds what an
/// HTTP/1.1 message needs on top: a response head with the HTTP/1.1 framing it implies
/// (`HTTP2HeadTranslator.http1Framing`), a bodiless response (HEAD, 204, 304) whole
/// with its head whatever the stream does after it, and a stream that ends without its
/// response (a reset, a refusal) as a failure.
///
/// Flow control and pausing are the stream leg's: response DATA is credited back
/// only when the owner says it wrote it on (`consumed`); while a `LegPauseReason`
/// holds the leg, the stream's events wait there in order. `isWritable` is false while
/// the stream has `HTTPClientBufferLimits.http2StreamSendQueue` request bytes queued or the
/// socket is above its watermark.
///
/// Failures: a stream the upstream resets, one the connection cannot open, or one
/// whose connection is lost, fails the request; the connection is then closed (the
/// owner opens a new one for its next request).
///
/// Concurrent streams: an owner that sends several requests at once on this one
/// connection (replay, re-sending streams that were concurrent on a recorded
/// connection) opens an `HTTP2StreamLeg` per request with `openConcurrentStream`,
/// beside the leg's own request; an RFC 8441 extended CONNECT (a replayed WebSocket)
/// with `openExtendedConnectStream`, once the server's SETTINGS said it takes one
/// (`acceptsExtendedConnect`, `notifyWhenSettingsArrive`). Those streams report to their own owners; this leg
/// still runs the connection's pump (`flushConcurrentStreams` after sending on one)
/// and tells a stream's owner when it may send again (`notifyWhenWritable`).
///
/// End of input (`HTTPClientLegDelegate.legFinishedInput`): the pump delivers events
/// inside the owner's calls too (`sendHead`, `sendBody`, `sendEnd`, `resumeReading`,
/// `flushConcurrentStreams`), not only on a read. Each owner call and each connection
/// callback is one batch (`deliveringEvents`); the owner that heard an event in it
/// (`batchOwner`, held strongly until then: the last event may have ended the response
/// and the owner released the leg) hears `legFinishedInput` once, as the outermost of them
/// returns.
///
/// Thread ownership: confined to the connection's loop; owned by its owner, which it
/// holds weakly (`delegate`). It runs its connection's pump (it is its only owner).
public final class HTTP2ClientLeg: HTTPClientLeg, HTTP2UpstreamConnectionOwner, HTTP2StreamLegDelegate {
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

    public weak var delegate: (any HTTPClientLegDelegate)?
    private let upstream: UpstreamConnection
    private var connection: HTTP2UpstreamConnection?
    private var phase = Phase.idle
    /// The reasons reading is paused for, applied to each request's stream leg.
    private var pauses = LegReadPauses()
    private var pumping = false
    private var pumpAgain = false
    private var wasWritable = true
    public private(set) var reused = false

    /// The stream of the request in flight, or of the last one (the owner may still
    /// consume its response bytes).
    private var stream: HTTP2StreamLeg?
    /// The last request's stream leg once it let go of its stream, for the next request.
    private var streamLegs = HTTP2StreamLegRecycler()
    private var requestMethod = "GET"
    /// Concurrent streams whose owners wait for `legBecameWritable` (`notifyWhenWritable`).
    private var waitingForWritable: [HTTP2StreamLeg] = []
    /// What runs once the server's first SETTINGS arrived (`notifyWhenSettingsArrive`).
    private var waitingForSettings: [() -> Void] = []
    private var requestEnded = false
    public private(set) var responseStarted = false
    /// Owner calls and connection callbacks in progress (`deliveringEvents`).
    private var batchDepth = 0
    /// The owner that heard an event in the batch in progress; it hears `legFinishedInput`
    /// when the batch ends.
    private var batchOwner: (any HTTPClientLegDelegate)?

    private init(upstream: UpstreamConnection) {
        self.upstream = upstream
    }

    /// A leg speaking HTTP/2 over `upstream` (it takes the connection's stream over).
    public static func open(upstream: UpstreamConnection) throws(HTTP2SessionError) -> HTTP2ClientLeg {
        let leg = HTTP2ClientLeg(upstream: upstream)
        leg.connection = try HTTP2UpstreamConnection(upstream: upstream, owner: leg)
        return leg
    }

    public var target: UpstreamTarget { upstream.target }
    public var serverAddress: String { upstream.serverAddress }
    public var tls: TLSDetails? { upstream.tls }
    public var poolable: Bool { phase == .idle && connection?.canOpenStreams == true }

    public var isWritable: Bool {
        guard let connection, !connection.closed else { return true } // writes are dropped; the loss is reported
        if phase == .exchanging, let stream { return stream.isWritable }
        return upstream.stream.isWritable
    }

    // MARK: Request

    public func sendHead(_ head: LegRequestHead, endStream: Bool) {
        guard phase == .idle, let connection else { return }
        requestMethod = head.method
        phase = .exchanging
        requestEnded = endStream
        responseStarted = false
        streamLegs.recycle(&self.stream)
        let stream = streamLegs.leg(on: connection, owner: self)
        self.stream = stream
        if pauses.isPaused { stream.pauseReading(pauses.reasons) }
        deliveringEvents {
            stream.sendHead(head, endStream: endStream)
            pump()
        }
    }

    public func sendBody(_ bytes: ArraySlice<UInt8>) {
        guard phase == .exchanging, !requestEnded else { return }
        deliveringEvents {
            stream?.sendBody(bytes)
            pump()
        }
    }

    public func sendEnd(trailers: HTTPHeaders?) {
        guard phase == .exchanging, !requestEnded else { return }
        requestEnded = true
        deliveringEvents {
            stream?.sendEnd(trailers: trailers)
            pump()
        }
    }

    // MARK: Reading

    public func pauseReading(_ reason: LegPauseReason) {
        _ = pauses.pause(reason)
        if phase == .exchanging { stream?.pauseReading(reason) }
    }

    public func resumeReading(_ reason: LegPauseReason) {
        _ = pauses.resume(reason)
        guard phase == .exchanging else { return }
        deliveringEvents {
            stream?.resumeReading(reason) // delivers what waited, if no other reason holds it
            pump()
        }
    }

    public func consumed(_ count: Int) {
        stream?.consumed(count)
    }

    // MARK: HTTP2StreamLegDelegate

    // Only the stream of the request in flight counts (`isCurrent`): an earlier stream
    // may still close after its response ended and the owner started the next request.

    private func isCurrent(_ leg: any HTTPClientLeg) -> Bool {
        phase == .exchanging && leg === stream
    }

    public func legResponseStarted(_ leg: any HTTPClientLeg) {}

    public func leg(_ leg: any HTTPClientLeg, receivedHead head: LegResponseHead) {
        guard isCurrent(leg), let delegate = ownerHearingEvent() else { return }
        if !responseStarted {
            responseStarted = true
            delegate.legResponseStarted(self)
        }
        if head.received.isInterim {
            delegate.leg(self, receivedHead: head)
            return
        }
        let framing = HTTP2HeadTranslator.http1Framing(of: head.received.headers, requestIsHEAD: requestMethod == "HEAD",
                                                       endStream: head.endsStream)
        delegate.leg(self, receivedHead: LegResponseHead(received: head.received, framing: framing,
                                                         statedContentLength: nil, endsStream: head.endsStream))
        // A bodiless response (HEAD, 204, 304) is whole with its head, as in HTTP/1.1:
        // what the stream does after it (DATA nghttp2 refuses, a reset) no longer counts.
        if framing == .none, !head.endsStream { end(trailers: nil) }
    }

    public func leg(_ leg: any HTTPClientLeg, receivedBody bytes: ArraySlice<UInt8>) {
        guard isCurrent(leg) else { return }
        ownerHearingEvent()?.leg(self, receivedBody: bytes)
    }

    public func leg(_ leg: any HTTPClientLeg, receivedEnd trailers: HTTPHeaders?) {
        guard isCurrent(leg) else { return }
        end(trailers: trailers)
    }

    public func leg(_ leg: any HTTPClientLeg, failed error: FlowError) {
        guard isCurrent(leg) else { return }
        fail(error)
    }

    public func legBecameWritable(_ leg: any HTTPClientLeg) {}

    public func legFinishedInput(_ leg: any HTTPClientLeg) {}

    public func leg(_ leg: HTTP2StreamLeg, framedRequestBody count: Int) {}

    /// Only a stream that ends before its response did fails the request (an HTTP/1.1
    /// owner has no way to pass a reset's code on).
    public func leg(_ leg: HTTP2StreamLeg, streamEnded end: HTTP2StreamEnd) {
        guard isCurrent(leg) else { return }
        switch end {
        case .resetByUpstream(let code), .closed(let code):
            fail(FlowError(.upstreamAborted, "\(upstream.target.hostPort) reset the HTTP/2 stream with \(code)"))
        }
    }

    private func end(trailers: HTTPHeaders?) {
        guard phase == .exchanging else { return }
        phase = requestEnded ? .idle : .finished
        reused = true // whatever comes next on this connection goes over a used one
        ownerHearingEvent()?.leg(self, receivedEnd: trailers)
    }

    /// The stream cannot go on: the request fails and the connection is closed.
    private func fail(_ error: FlowError) {
        guard phase == .exchanging else { return }
        phase = .finished
        stream?.cancel()
        connection?.close()
        ownerHearingEvent()?.leg(self, failed: error)
    }

    // MARK: Letting go

    public func cancel() {
        guard phase != .detached else { return }
        phase = .detached
        stream?.cancel()
        connection?.close()
    }

    public func takeOver() -> (stream: any ByteStream, unparsed: [UInt8])? { nil }

    // MARK: Concurrent streams

    /// A leg for one more request on this connection, carried at the same time as the
    /// leg's own and other concurrent streams, reporting to `owner`; nil when the
    /// connection takes no new stream (closed, going away, or this leg was cancelled).
    /// The owner sends on it and then calls `flushConcurrentStreams`.
    public func openConcurrentStream(owner: any HTTP2StreamLegDelegate) -> HTTP2StreamLeg? {
        guard canOpenStreams, let connection else { return nil }
        return HTTP2StreamLeg(connection: connection, owner: owner)
    }

    /// The connection takes new streams (it is open, not going away, and this leg was not cancelled).
    public var canOpenStreams: Bool {
        phase != .detached && connection?.canOpenStreams == true
    }

    /// What the server's first SETTINGS said of RFC 8441 extended CONNECT
    /// (SETTINGS_ENABLE_CONNECT_PROTOCOL = 1): nil until they arrived (RFC 8441 §3: a
    /// client waits for them before it sends `:protocol`).
    public var acceptsExtendedConnect: Bool? {
        guard let connection, connection.receivedSettings else { return nil }
        return connection.session.peerEnablesConnectProtocol
    }

    /// Runs `body` once, when the server's first SETTINGS arrived (`acceptsExtendedConnect`
    /// is known then) or the connection closed before them; at once when they already did.
    /// Our connection preface and SETTINGS are written now if they were not yet: a server
    /// spoken to by prior knowledge (h2c) sends its SETTINGS only after it read them.
    public func notifyWhenSettingsArrive(_ body: @escaping () -> Void) {
        guard acceptsExtendedConnect == nil, connection?.closed == false, phase != .detached else { return body() }
        waitingForSettings.append(body)
        deliveringEvents { pump() }
    }

    /// A concurrent stream (`openConcurrentStream`) for an RFC 8441 extended CONNECT
    /// (`:method CONNECT`, `:protocol`): nil when the server has not said it takes them
    /// (`acceptsExtendedConnect` not true) or the connection takes no new stream. Once the
    /// server answered it with a 2xx, `HTTP2StreamLeg.openByteStream` makes the stream a
    /// byte stream.
    public func openExtendedConnectStream(owner: any HTTP2StreamLegDelegate) -> HTTP2StreamLeg? {
        guard acceptsExtendedConnect == true else { return nil }
        return openConcurrentStream(owner: owner)
    }

    /// Runs those waiting for the server's SETTINGS (they arrived, or never will).
    private func settingsKnown() {
        guard !waitingForSettings.isEmpty else { return }
        let waiting = waitingForSettings
        waitingForSettings = []
        for body in waiting { body() }
    }

    /// Frames and writes what concurrent streams queued (and dispatches what arrived).
    public func flushConcurrentStreams() {
        deliveringEvents { pump() }
    }

    /// Calls `legBecameWritable` on `stream`'s owner once the stream takes request bytes
    /// again (checked after each pump).
    public func notifyWhenWritable(_ stream: HTTP2StreamLeg) {
        if !waitingForWritable.contains(where: { $0 === stream }) { waitingForWritable.append(stream) }
    }

    /// Tells the owners of waiting concurrent streams that are writable now.
    private func notifyWritableConcurrentStreams() {
        guard !waitingForWritable.isEmpty else { return }
        let waiting = waitingForWritable
        waitingForWritable = waiting.filter { !$0.isWritable }
        for stream in waiting where stream.isWritable { stream.delegate?.legBecameWritable(stream) }
    }

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
        notifyWritableConcurrentStreams()
        let writable = isWritable
        if writable, !wasWritable, phase == .exchanging {
            wasWritable = true
            delegate?.legBecameWritable(self)
        } else {
            wasWritable = writable
        }
    }

    /// Runs an owner's call or a connection callback as one batch of events: the owner
    /// that heard any of them hears `legFinishedInput` once the outermost batch returns.
    private func deliveringEvents(_ body: () -> Void) {
        batchDepth += 1
        body()
        batchDepth -= 1
        if batchDepth == 0 { finishBatch() }
    }

    /// The delegate about to hear a response event, noted as the batch's owner; a new owner
    /// (one that took the leg inside the batch) first ends the earlier owner's batch.
    private func ownerHearingEvent() -> (any HTTPClientLegDelegate)? {
        guard let delegate else { return nil }
        if let earlier = batchOwner, earlier !== delegate { finishBatch() }
        batchOwner = delegate
        return delegate
    }

    private func finishBatch() {
        guard let owner = batchOwner else { return }
        batchOwner = nil
        owner.legFinishedInput(self)
    }

    /// A read: an idle leg (parked in a pool, its delegate the last owner's) delivers no
    /// event and so says nothing.
    public func upstreamConnectionNeedsPump(_ connection: HTTP2UpstreamConnection) {
        deliveringEvents { pump() }
    }

    public func upstreamConnection(_ connection: HTTP2UpstreamConnection, received event: HTTP2Event) {
        if case .settings = event { settingsKnown() }
    }

    /// Streams in flight were told (`lost`) first; an idle leg can carry nothing more.
    /// The failure the loss brought ends its batch here.
    public func upstreamConnectionClosed(_ connection: HTTP2UpstreamConnection) {
        waitingForWritable = [] // their streams were told they are lost
        if phase == .idle { phase = .detached }
        settingsKnown()
        if batchDepth == 0 { finishBatch() }
    }
}
