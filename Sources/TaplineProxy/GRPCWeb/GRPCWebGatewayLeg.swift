import TaplineFlow
import TaplineHTTPClient
import TaplineNet
import TaplineWire

/// The upstream leg of an exchange on a `--grpc-web` gateway: an `HTTPClientLeg` around
/// the real leg to the gRPC upstream (`inner`), which translates a browser's gRPC-Web call
/// to native gRPC and its answer back (`GRPCWebTranslator`), answers a gRPC-Web CORS
/// preflight itself (`GRPCWebCORS`), and passes every other request through unchanged.
/// The owner (`HTTP1ProxyHandler`, or an `HTTP2ProxyHandler` stream through its HTTP/1.1-leg
/// path, and their machines) sees a leg like any other: the response it hears, forwards
/// and records is the one the browser gets.
///
/// An I/O-free shell: every translation decision is the translator's. Answers made here
/// (a preflight, a malformed request) come from a loop task, never inside the owner's
/// call, as a socket's reads would. A failing upstream (reset, closed mid-stream) ends
/// the browser's response with a trailer frame (`grpc-status` 14 UNAVAILABLE and the
/// reason) instead of a failure; a malformed request is cancelled upstream and gets
/// `grpc-status` 13 INTERNAL.
///
/// Without `inner` (`answering`): the source made this leg for a request it answers
/// without an upstream connection, a CORS preflight, or a gRPC-Web call whose upstream
/// could not be reached (it gets `grpc-status` 14 naming the connect error). It stands in
/// for the upstream as a mock's leg does (`serverAddress` says it is the gateway).
///
/// End of input: `inner`'s `legFinishedInput` ends the batches of its events (it says it
/// inside the owner's calls too, and after the event that ended the response: the owner
/// may have released this leg by then, which keeps its delegate for that); answers made
/// here say it after their own events.
///
/// Flow control: the owner reports the browser bytes it wrote (`consumed`); the upstream
/// is credited with the upstream bytes they carried (base64 is longer; the trailer frame
/// carried none), chunk by chunk in order (`credits`).
///
/// Thread ownership: confined to `loop`; owned by its handler while it carries a request,
/// else by nobody (its `GRPCWebGatewayLegSource` keeps `inner` in the pool and wraps it
/// again when it is handed out).
final class GRPCWebGatewayLeg: HTTPClientLeg, HTTPClientLegDelegate {
    weak var delegate: (any HTTPClientLegDelegate)?
    /// The leg to the gRPC upstream; nil for a leg that answers without one.
    let inner: (any HTTPClientLeg)?
    /// Where `inner`'s requests go, or would have gone.
    let target: UpstreamTarget
    /// Why there is no `inner` for a gRPC-Web call (the connect error); nil otherwise.
    private let connectFailure: FlowError?
    private let loop: EventLoop

    /// The translation of the gRPC-Web call in flight; nil for a request passed through.
    private var translator: GRPCWebTranslator?
    /// The request in flight is answered here (a preflight, a malformed request): `inner`
    /// carries nothing more for it and its events are not passed on.
    private var answeredHere = false
    /// `inner`'s request was cancelled (a malformed request): it is not reused.
    private var innerCancelled = false
    private var cancelled = false
    private var forwardedResponseStarted = false
    /// Browser bytes handed to the owner and the upstream bytes they carried, in order,
    /// not yet reported consumed.
    private var credits: [(client: Int, upstream: Int)] = []

    init(inner: any HTTPClientLeg, loop: EventLoop) {
        self.inner = inner
        target = inner.target
        connectFailure = nil
        self.loop = loop
        inner.delegate = self
    }

    /// A leg without an upstream connection to `target`, for a CORS preflight or, with
    /// `connectFailure`, a gRPC-Web call whose upstream could not be reached.
    init(answeringFor target: UpstreamTarget, connectFailure: FlowError?, loop: EventLoop) {
        inner = nil
        self.target = target
        self.connectFailure = connectFailure
        self.loop = loop
    }

    /// What a leg without `inner` records as its server (as a mock's leg says `mock`).
    static let gatewayServerAddress = "grpc-web-gateway"

    var serverAddress: String { inner?.serverAddress ?? Self.gatewayServerAddress }
    var tls: TLSDetails? { inner?.tls }
    var reused: Bool { inner?.reused ?? false }
    var responseStarted: Bool { answeredHere || inner?.responseStarted == true }
    var poolable: Bool { !innerCancelled && !cancelled && inner?.poolable == true }
    var isWritable: Bool { answeredHere || inner?.isWritable != false }

    // MARK: Request (from the owner)

    func sendHead(_ head: LegRequestHead, endStream: Bool) {
        translator = nil
        answeredHere = false
        forwardedResponseStarted = false
        credits.removeAll()
        guard case .http1(let request) = head else { return sendOn(head, endStream: endStream) }
        if GRPCWebCORS.isGRPCWebPreflight(request) {
            return answerHere(GRPCWebCORS.preflightResponse(to: request))
        }
        guard let translation = GRPCWebTranslator(request: request) else { return sendOn(head, endStream: endStream) }
        translator = translation
        guard let inner else {
            let reason = connectFailure?.message ?? "no connection to \(target.hostPort)"
            return answerWithStatus(GRPCStatus(code: 14, message: "the upstream is unreachable: \(reason)"))
        }
        inner.sendHead(.http1(translation.upstreamRequest(request)), endStream: endStream)
    }

    /// A request passed through unchanged; without `inner` it fails as its connect did.
    private func sendOn(_ head: LegRequestHead, endStream: Bool) {
        if let inner { return inner.sendHead(head, endStream: endStream) }
        let failure = connectFailure ?? FlowError(.upstreamUnreachable, "no connection to \(target.hostPort)")
        answeredHere = true
        _ = loop.scheduleTimer(milliseconds: 0) { [weak self] in
            guard let self, !self.cancelled, let delegate = self.delegate else { return }
            delegate.leg(self, failed: failure)
            delegate.legFinishedInput(self)
        }
    }

    func sendBody(_ bytes: ArraySlice<UInt8>) {
        guard !answeredHere else { return }
        guard translator != nil else { return inner?.sendBody(bytes) ?? () }
        do throws(GRPCWebTranslationError) {
            let plain = try translator!.requestBody(bytes)
            if !plain.isEmpty { inner?.sendBody(plain) }
        } catch {
            rejectRequest(error)
        }
    }

    func sendEnd(trailers: HTTPHeaders?) {
        guard !answeredHere else { return }
        guard translator != nil else { return inner?.sendEnd(trailers: trailers) ?? () }
        do throws(GRPCWebTranslationError) {
            try translator!.requestEnd()
            inner?.sendEnd(trailers: trailers)
        } catch {
            rejectRequest(error)
        }
    }

    func pauseReading(_ reason: LegPauseReason) { inner?.pauseReading(reason) }
    func resumeReading(_ reason: LegPauseReason) { inner?.resumeReading(reason) }

    func consumed(_ count: Int) {
        guard translator != nil else { return inner?.consumed(count) ?? () }
        var left = count
        var upstream = 0
        while left > 0, !credits.isEmpty {
            if left >= credits[0].client {
                left -= credits[0].client
                upstream += credits[0].upstream
                credits.removeFirst()
            } else {
                // Part of a chunk: its share of the upstream bytes, the rest with the remainder.
                let share = credits[0].upstream * left / credits[0].client
                credits[0] = (credits[0].client - left, credits[0].upstream - share)
                upstream += share
                left = 0
            }
        }
        if upstream > 0 { inner?.consumed(upstream) }
    }

    func cancel() {
        cancelled = true
        inner?.cancel()
    }

    func takeOver() -> (stream: any ByteStream, unparsed: [UInt8])? {
        translator == nil && !answeredHere ? inner?.takeOver() : nil
    }

    /// A malformed gRPC-Web request: the upstream's stream is cancelled and the browser
    /// gets the failure's trailer frame (with the head when none went out).
    private func rejectRequest(_ error: GRPCWebTranslationError) {
        guard let translation = translator, !translation.responseEnded else { return }
        innerCancelled = true
        inner?.cancel()
        answerWithStatus(GRPCStatus(code: 13, message: error.description))
    }

    /// Ends the gRPC-Web call here with `status` in a trailer frame (with the head when none
    /// went out), from a loop task; `inner` carries nothing more for it.
    private func answerWithStatus(_ status: GRPCStatus) {
        guard var translation = translator, !translation.responseEnded else { return }
        let (head, body) = translation.failure(status)
        translator = translation
        answeredHere = true
        _ = loop.scheduleTimer(milliseconds: 0) { [weak self] in
            guard let self, !self.cancelled, let delegate = self.delegate else { return }
            if let head {
                if !self.forwardedResponseStarted { delegate.legResponseStarted(self) }
                delegate.leg(self, receivedHead: LegResponseHead(received: head, framing: .chunked, statedContentLength: nil))
            }
            self.deliverEnd(body, to: delegate)
            delegate.legFinishedInput(self)
        }
    }

    /// Answers the request here with the bodiless `head` (a preflight's 204; a loop task,
    /// as a read would bring it). `inner` carries nothing for it and stays poolable.
    private func answerHere(_ head: HTTPResponseHead) {
        answeredHere = true
        _ = loop.scheduleTimer(milliseconds: 0) { [weak self] in
            guard let self, !self.cancelled, let delegate = self.delegate else { return }
            delegate.legResponseStarted(self)
            delegate.leg(self, receivedHead: LegResponseHead(received: head, framing: .none, statedContentLength: 0))
            self.deliverEnd([], to: delegate)
            delegate.legFinishedInput(self)
        }
    }

    /// The trailer frame `frame` (no upstream bytes behind it), then the end of the response.
    private func deliverEnd(_ frame: [UInt8], to delegate: any HTTPClientLegDelegate) {
        if !frame.isEmpty {
            credits.append((frame.count, 0))
            delegate.leg(self, receivedBody: frame[...])
        }
        delegate.leg(self, receivedEnd: nil)
    }

    // MARK: Response (from the upstream leg)

    func legResponseStarted(_ leg: any HTTPClientLeg) {
        guard !answeredHere else { return }
        forwardedResponseStarted = true
        delegate?.legResponseStarted(self)
    }

    func leg(_ leg: any HTTPClientLeg, receivedHead head: LegResponseHead) {
        guard !answeredHere else { return }
        guard translator != nil else { delegate?.leg(self, receivedHead: head); return }
        guard !head.received.isInterim else { return } // a 1xx means nothing to a gRPC-Web client
        let translated = translator!.responseHead(head.received)
        delegate?.leg(self, receivedHead: LegResponseHead(received: translated, framing: .chunked, statedContentLength: nil))
    }

    func leg(_ leg: any HTTPClientLeg, receivedBody bytes: ArraySlice<UInt8>) {
        guard !answeredHere else { return }
        guard let translation = translator else { delegate?.leg(self, receivedBody: bytes); return }
        let out = translation.responseBody(bytes)
        if out.isEmpty {
            inner?.consumed(bytes.count) // dropped (not gRPC): nothing for the browser to consume
            return
        }
        credits.append((out.count, bytes.count))
        delegate?.leg(self, receivedBody: out)
    }

    func leg(_ leg: any HTTPClientLeg, receivedEnd trailers: HTTPHeaders?) {
        guard !answeredHere else { return }
        guard let delegate else { return }
        guard translator != nil else { return delegate.leg(self, receivedEnd: trailers) }
        deliverEnd(translator!.responseEnd(trailers: trailers), to: delegate)
    }

    func leg(_ leg: any HTTPClientLeg, failed error: FlowError) {
        guard !answeredHere else { return }
        guard let delegate else { return }
        guard translator != nil else { return delegate.leg(self, failed: error) }
        guard !translator!.responseEnded else { return }
        let (head, frame) = translator!.failure(GRPCStatus(code: 14, message: "the upstream failed: \(error.message)"))
        if let head {
            if !forwardedResponseStarted { delegate.legResponseStarted(self) }
            delegate.leg(self, receivedHead: LegResponseHead(received: head, framing: .chunked, statedContentLength: nil))
        }
        deliverEnd(frame, to: delegate)
    }

    func legBecameWritable(_ leg: any HTTPClientLeg) {
        if !answeredHere { delegate?.legBecameWritable(self) }
    }

    func legFinishedInput(_ leg: any HTTPClientLeg) {
        if !answeredHere { delegate?.legFinishedInput(self) }
    }
}
