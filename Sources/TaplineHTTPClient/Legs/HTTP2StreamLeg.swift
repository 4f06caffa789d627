import TaplineFlow
import TaplineHTTP2
import TaplineWire

/// An `HTTPClientLeg` over one stream of an HTTP/2 connection it shares with other
/// legs (`HTTP2ProxyHandler`'s upstream, whose streams carry the client connection's
/// streams). The connection and its pump belong to the owner; the leg only opens its
/// stream and translates at message level: a head to HEADERS (an HTTP/2 block goes as
/// is; an HTTP/1.1 head through `HTTP2HeadTranslator.http2Request`), body to DATA,
/// trailers to a trailing HEADERS; the response's HEADERS (`LegResponseHead` with the
/// block as received and whether it ended the stream), DATA and trailers to the
/// delegate.
///
/// Unlike an HTTP/1.1 leg, the stream outlives its response: a request may still be
/// uploading after the response ended, and the upstream may then reset the stream
/// with NO_ERROR to stop it (RFC 9113 §8.1). So the leg takes request bytes until
/// its request ended, and reports every way the stream ends that is not its response
/// ending (`HTTP2StreamLegDelegate.leg(_:streamEnded:)`) with its HTTP/2 code, for the
/// owner to pass on; a loss of the connection or a response the leg refuses (a header
/// list over the limit) is `failed`.
///
/// Flow control: response DATA is credited back only when the owner says it wrote it
/// on (`consumed`); what was not is given back when the leg lets go of the stream
/// (`cancel`, a reset), so no connection window leaks. Request DATA the session framed
/// is reported (`framedRequestBody`), for the owner to credit its own client then.
/// While a `LegPauseReason` holds the leg, the stream's events wait here in order (at
/// most a stream window of DATA: the upstream sends no more without credit).
///
/// An RFC 8441 tunnel keeps the leg: once the upstream accepted the extended CONNECT,
/// the stream's events go to the tunnel as they come (`relayStream(to:)`; an owner that
/// wants the stream as a `ByteStream` gets an `HTTP2TunnelStream` relayed so from
/// `openByteStream`), and `cancel` still resets the stream.
///
/// Ownership (invariant): the connection's stream map holds the leg while its stream is
/// open; the leg holds its delegate (and a tunnel) strongly until it lets go of the
/// stream (`cancel`, the stream closing, the connection's loss); an owner that drops
/// the leg before its stream is over cancels it first. A strong reference, not a weak one: a weakly
/// referenced owner takes the runtime's slow reference-counting path on every retain
/// (docs/performance.md), and the owner is an object per proxied request. A detached
/// leg that nothing but its owner holds may be recycled for a later stream
/// (`HTTP2StreamLegRecycler`, `reuse`): no event of its old stream can reach it then.
///
/// Thread ownership: confined to the connection's loop.
public final class HTTP2StreamLeg: HTTPClientLeg, HTTP2UpstreamStreamDelegate {
    private enum Phase {
        /// No stream was opened yet.
        case idle
        /// The stream is open and its response has not ended.
        case exchanging
        /// The response ended; the stream may stay open until the request ended.
        case responseEnded
        /// The stream carries a tunnel: its events go to `tunnel` (`relayStream(to:)`).
        case relaying
        /// The leg let go of the stream (it closed or failed, the connection was lost, or `cancel`).
        case detached
    }

    /// What waits while the leg is paused: a stream event, or the loss of the connection.
    private enum HeldEvent {
        case event(HTTP2Event)
        case lost(FlowError)
    }

    private var owner: (any HTTP2StreamLegDelegate)?
    /// Where the stream's events go while `relaying`.
    private var tunnel: (any HTTP2UpstreamStreamDelegate)?
    /// The connection of the leg's stream (a recycled leg gets its next one in `reuse`).
    public private(set) var connection: HTTP2UpstreamConnection
    private var phase = Phase.idle
    private var pauses = LegReadPauses()
    private var held: [HeldEvent] = []
    /// The stream, once opened (0 before).
    public private(set) var stream: Int32 = 0
    /// The request sent was a HEAD: all an HTTP/1.1 framing of its response (if one is
    /// asked) needs of it. The block itself is not kept: nghttp2 copied it, and holding
    /// it for the stream's life moved its allocation off glibc's per-thread cache
    /// (docs/performance.md).
    public private(set) var requestIsHEAD = false
    private var requestEnded = false
    public private(set) var responseStarted = false
    /// Response DATA bytes delivered and not yet credited back with `consumed`.
    private var unconsumed = 0
    public private(set) var reused: Bool

    /// A leg for one request on `connection` (`reused` when that carried a stream before),
    /// reporting to `owner`.
    init(connection: HTTP2UpstreamConnection, owner: any HTTP2StreamLegDelegate) {
        self.connection = connection
        self.owner = owner
        reused = connection.streamsOpened > 0
    }

    /// The leg let go of its stream and its owner (see `HTTP2StreamLegRecycler`).
    var isDetached: Bool { phase == .detached }

    /// Makes a detached leg new again, for one request on `connection` reporting to
    /// `owner`, as `init` would (`HTTP2StreamLegRecycler` calls it on a leg only it holds).
    func reuse(on connection: HTTP2UpstreamConnection, owner: any HTTP2StreamLegDelegate) {
        precondition(phase == .detached, "only a detached HTTP2StreamLeg is reused")
        if self.connection !== connection { self.connection = connection } // no retain and release of the same one
        self.owner = owner
        reused = connection.streamsOpened > 0
        phase = .idle
        pauses = LegReadPauses()
        stream = 0
        requestEnded = false
        responseStarted = false
    }

    /// The owner (set at `init`); an HTTP/2 stream leg reports its stream's end codes, so
    /// its owner is an `HTTP2StreamLegDelegate` (any other delegate set here is ignored).
    public var delegate: (any HTTPClientLegDelegate)? {
        get { owner }
        set { owner = newValue as? any HTTP2StreamLegDelegate }
    }

    private var upstream: UpstreamConnection { connection.upstream }
    public var target: UpstreamTarget { upstream.target }
    public var serverAddress: String { upstream.serverAddress }
    public var tls: TLSDetails? { upstream.tls }

    /// A stream is one request: the connection, not the leg, is what carries the next.
    public var poolable: Bool { false }

    public var isWritable: Bool {
        guard !connection.closed else { return true } // writes are dropped; the loss is reported
        return upstream.stream.isWritable && connection.session.bufferedBytes(stream: stream) < HTTPClientBufferLimits.http2StreamSendQueue
    }

    // MARK: Request

    public func sendHead(_ head: LegRequestHead, endStream: Bool) {
        guard phase == .idle else { return }
        let fields: HTTPHeaders
        switch head {
        case .http1(let head):
            fields = HTTP2HeadTranslator.http2Request(head, scheme: upstream.target.scheme.rawValue,
                                                      defaultAuthority: upstream.target.authority)
        case .http2(let block):
            fields = block
        }
        requestIsHEAD = head.isHEAD
        phase = .exchanging
        requestEnded = endStream
        do {
            stream = try connection.open(fields, endStream: endStream, delegate: self)
        } catch {
            fail(FlowError(.upstreamUnreachable, "\(upstream.target.hostPort) does not take another HTTP/2 stream: \(error)"))
        }
    }

    /// Request body bytes, as the array they came in (no copy).
    public func sendBody(_ bytes: [UInt8]) {
        guard phase == .exchanging || phase == .responseEnded, !requestEnded else { return }
        connection.session.send(data: bytes, stream: stream)
    }

    public func sendBody(_ bytes: ArraySlice<UInt8>) {
        sendBody(Array(bytes))
    }

    public func sendEnd(trailers: HTTPHeaders?) {
        guard phase == .exchanging || phase == .responseEnded, !requestEnded else { return }
        requestEnded = true
        connection.session.finish(stream: stream, trailers: HTTP2HeadTranslator.http2Trailers(trailers))
    }

    // MARK: Reading

    public func pauseReading(_ reason: LegPauseReason) {
        _ = pauses.pause(reason)
    }

    public func resumeReading(_ reason: LegPauseReason) {
        guard pauses.resume(reason) else { return }
        while !pauses.isPaused, !held.isEmpty {
            switch held.removeFirst() {
            case .event(let event): handle(event)
            case .lost(let error): lose(error)
            }
        }
    }

    public func consumed(_ count: Int) {
        let credit = min(count, unconsumed)
        guard credit > 0 else { return }
        unconsumed -= credit
        connection.session.consume(stream: stream, count: credit)
    }

    // MARK: HTTP2UpstreamStreamDelegate

    public func upstreamStream(_ id: Int32, received event: HTTP2Event) {
        if phase == .relaying, let tunnel {
            tunnel.upstreamStream(id, received: event)
            switch event {
            case .streamReset, .streamClosed: detach(code: nil) // the connection let go of the stream
            default: break
            }
            return
        }
        if case .dataSent(_, let count) = event {
            owner?.leg(self, framedRequestBody: count) // flow control, not a response event: never held
            return
        }
        if pauses.isPaused || !held.isEmpty {
            held.append(.event(event))
            return
        }
        handle(event)
    }

    public func upstreamStream(_ id: Int32, lost error: FlowError) {
        if phase == .relaying, let tunnel {
            tunnel.upstreamStream(id, lost: error)
            detach(code: nil)
            return
        }
        if pauses.isPaused || !held.isEmpty {
            held.append(.lost(error))
            return
        }
        lose(error)
    }

    private func handle(_ event: HTTP2Event) {
        guard let owner else { return }
        switch event {
        case .headers(_, let fields, .informational, _):
            guard phase == .exchanging else { return }
            owner.leg(self, receivedHead: LegResponseHead(received: HTTP2HeadTranslator.capturedResponse(fields),
                                                          framing: .none, statedContentLength: nil))
        case .headers(_, let fields, .response, let endStream):
            guard phase == .exchanging else { return }
            responseStarted = true
            owner.legResponseStarted(self)
            owner.leg(self, receivedResponseBlock: fields, endsStream: endStream)
            if endStream { end(trailers: nil, owner) }
        case .headers(_, let fields, _, _):
            end(trailers: fields, owner)
        case .oversizedHeaders(_, _, let kind, _, let size):
            fail(HTTP2OversizedHeaders.upstreamError(kind: kind, size: size,
                                                     limit: connection.session.settings.maxHeaderListSize,
                                                     upstream: upstream.target.hostPort))
        case .data(_, let bytes):
            guard phase == .exchanging else { return }
            unconsumed += bytes.count
            owner.leg(self, receivedData: bytes)
        case .endStream:
            end(trailers: nil, owner)
        case .streamReset(_, let code):
            detach(code: nil)
            owner.leg(self, streamEnded: .resetByUpstream(code))
        case .streamClosed(_, let code):
            detach(code: nil)
            owner.leg(self, streamEnded: .closed(code))
        case .dataSent, .settings, .goAway:
            break
        }
    }

    private func end(trailers: HTTPHeaders?, _ owner: any HTTP2StreamLegDelegate) {
        guard phase == .exchanging else { return }
        phase = .responseEnded
        owner.leg(self, receivedEnd: trailers)
    }

    /// The leg refuses the response (or cannot open its stream): the stream is reset with
    /// CANCEL and the request fails.
    private func fail(_ error: FlowError) {
        guard phase == .exchanging else { return }
        let owner = self.owner
        detach(code: .cancel)
        owner?.leg(self, failed: error)
    }

    /// The connection was lost under the stream: the request fails unless its response
    /// was complete (then there is nothing left to fail).
    private func lose(_ error: FlowError) {
        let failsResponse = phase == .exchanging
        let owner = self.owner
        detach(code: nil)
        if failsResponse { owner?.leg(self, failed: error) }
    }

    /// Lets go of the stream: resets it with `code` when still open (nil: it is over for
    /// the connection already), gives back the credit of DATA never consumed, and lets
    /// go of the owner. No event follows.
    private func detach(code: HTTP2ErrorCode?) {
        guard phase != .detached else { return }
        if phase != .idle {
            if let code { connection.abandon(stream: stream, code: code) }
            if unconsumed > 0 { connection.session.consume(stream: stream, count: unconsumed) }
        }
        unconsumed = 0
        phase = .detached
        if !held.isEmpty { held = [] }
        owner = nil
        if tunnel != nil { tunnel = nil }
    }

    // MARK: Letting go

    public func cancel() {
        cancel(code: .cancel)
    }

    /// `cancel` with the code the upstream's stream is reset with (an HTTP/2 owner passes
    /// its client's on).
    public func cancel(code: HTTP2ErrorCode) {
        detach(code: code)
    }

    /// An HTTP/2 stream has no transport of its own to hand over: see `relayStream(to:)`.
    public func takeOver() -> (stream: any ByteStream, unparsed: [UInt8])? { nil }

    /// The upstream accepted an extended CONNECT (RFC 8441): from now on every event of
    /// the stream (and its loss) goes to `tunnel`, which credits what it relays; the leg
    /// stays the stream's, so `cancel` still resets it.
    public func relayStream(to tunnel: any HTTP2UpstreamStreamDelegate) {
        guard phase == .exchanging || phase == .responseEnded else { return }
        self.tunnel = tunnel
        phase = .relaying
        held = []
        unconsumed = 0 // nothing but the head came before: the tunnel credits all DATA
    }

    /// The upstream accepted an extended CONNECT (RFC 8441, a 2xx): the stream as a byte
    /// stream (DATA both ways, END_STREAM as EOF and `shutdownWrite`, a reset or the
    /// connection's loss as `didCloseWith`), relayed to it as `relayStream(to:)` does, for
    /// an owner that is not an HTTP/2 endpoint itself (a replayed WebSocket). It reads
    /// once its delegate calls `resumeReading`. `needsPump` runs the connection's pump
    /// (the owner of `connection` writes what the byte stream queued); `closeGrace`: after
    /// `closeAfterFlush`, how long the server has to end its side before the stream is
    /// reset. Nil unless the stream is open and its response started.
    public func openByteStream(closeGrace: Int, needsPump: @escaping () -> Void) -> HTTP2TunnelStream? {
        guard phase == .exchanging || phase == .responseEnded, !connection.closed else { return nil }
        let byteStream = HTTP2TunnelStream(session: connection.session, stream: stream, transport: upstream.stream,
                                           closeGrace: closeGrace, needsPump: needsPump)
        relayStream(to: byteStream)
        return byteStream
    }
}
