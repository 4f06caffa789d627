import TaplineExport
import TaplineFlow
import TaplineHTTPClient
import TaplineNet
import TaplineWire

/// The upstream leg of a `tapline mock` exchange: an `HTTPClientLeg` with no socket under
/// it. It takes the request in whole (head, body, trailers), asks `MockResponder`, and
/// answers as a real upstream would: the recorded head as recorded, its body read from
/// the capture `chunkSize` bytes at a time, its trailers; or the generated near-miss
/// (404/502) answer; or, for a WebSocket opening that matched a recorded WebSocket, a 101
/// and then, when the owner takes the connection over (`takeOver`), a
/// `MockWebSocketServer` that plays the recorded conversation; or, for an unmatched
/// request with `--fallback`, whatever a real leg from `fallbackLegs` brings back
/// (events passed on as its own).
///
/// Events come from loop timers (the `--latency` wait, then one per body chunk), never
/// inside the owner's call, as a socket's reads would bring them; a chunk is read only
/// while no `LegPauseReason` holds the leg, so a slow client stops the reading.
/// Memory: one request body (at most `MockSessionLoader.requestBodyLimit`; past that
/// only its size and digest, `MockLiveRequestBody`) and one body chunk per leg.
///
/// Thread ownership: confined to `loop`; owned by its handler while it carries a
/// request, else by its `MockLegSource`.
final class RecordedResponseLeg: HTTPClientLeg, HTTPClientLegDelegate {
    /// Bytes of a recorded body read and handed to the owner per step.
    static let chunkSize = 64 << 10

    weak var delegate: (any HTTPClientLegDelegate)?
    let target: UpstreamTarget
    /// What the capture records as the server: no socket, so the mock says what it is.
    let serverAddress = "mock"
    let tls: TLSDetails? = nil
    private(set) var reused = false
    private(set) var responseStarted = false
    private(set) var poolable = true
    var isWritable: Bool { fallbackLeg?.isWritable ?? true }
    /// Where a fallback connection's setup is stamped (the flow's, set by the source per request).
    var timings = FlowTimingsBox()

    private let loop: EventLoop
    private let responder: MockResponder
    private let fallbackLegs: (any UpstreamLegSource)?
    private var request: HTTPRequestHead?
    private var requestBody = MockLiveRequestBody()
    private var requestTrailers: HTTPHeaders?
    /// The request in flight has ended (a head with `endStream`, or `sendEnd`): later
    /// `sendBody`/`sendEnd` calls for it are ignored, as by `HTTP1ClientLeg`.
    private var requestComplete = false
    /// The response being sent and how far its body has been read.
    private var response: MockResponse?
    private var bodyOffset: UInt64 = 0
    private var paused: LegPauseReason = []
    /// The next step (the latency wait or the next chunk) is scheduled.
    private var stepScheduled = false
    private var cancelled = false
    /// The real leg an unmatched request went to (`--fallback`).
    private var fallbackLeg: (any HTTPClientLeg)?
    /// The accepted WebSocket whose 101 is sent (or about to be): `takeOver` plays it.
    private var webSocket: MockWebSocketAnswer?

    init(loop: EventLoop, target: UpstreamTarget, responder: MockResponder, fallbackLegs: (any UpstreamLegSource)?) {
        self.loop = loop
        self.target = target
        self.responder = responder
        self.fallbackLegs = fallbackLegs
    }

    // MARK: The request

    func sendHead(_ head: LegRequestHead, endStream: Bool) {
        switch head {
        case .http1(let head): request = head
        case .http2(let fields): request = HTTP2HeadTranslator.http1Request(fields)
        }
        requestBody = MockLiveRequestBody()
        requestTrailers = nil
        requestComplete = false
        webSocket = nil
        poolable = false
        responseStarted = false
        if endStream { requestEnded() }
    }

    func sendBody(_ bytes: ArraySlice<UInt8>) {
        guard !requestComplete else { return }
        requestBody.append(bytes)
    }

    func sendEnd(trailers: HTTPHeaders?) {
        guard !requestComplete else { return }
        requestTrailers = trailers
        requestEnded()
    }

    private func requestEnded() {
        guard let request, !requestComplete else { return }
        requestComplete = true
        let body = requestBody.compared(target: request.target, headers: request.headers,
                                        grpcDecoder: responder.options.grpcDecoder)
        let live = MockRequest(method: request.method, target: request.target, headers: request.headers, comparedBody: body)
        switch responder.answer(live) {
        case .respond(let response): schedule(response)
        case .webSocket(let answer): accept(answer)
        case .fallback(let fallbackTarget):
            guard requestBody.isHeld else {
                let reason = "no recorded request matches, and the request body (\(requestBody.count) bytes) is over "
                    + "\(MockSessionLoader.requestBodyLimit) bytes: the mock kept only its SHA-256 to match it, so it cannot forward it to --fallback"
                return schedule(.generated(status: 413, json: .object([JSONMember("error", .string(reason))])))
            }
            forward(request, to: fallbackTarget)
        }
    }

    // MARK: The response

    /// Sends the 101 (after the `--latency` wait); the owner then takes the connection over.
    private func accept(_ answer: MockWebSocketAnswer) {
        webSocket = answer
        schedule(MockResponse(head: answer.head, framing: .none, statedContentLength: nil, body: .generated([]),
                              trailers: nil, delayMilliseconds: answer.delayMilliseconds, problem: nil))
    }

    private func schedule(_ response: MockResponse) {
        self.response = response
        bodyOffset = 0
        stepScheduled = true
        _ = loop.scheduleTimer(milliseconds: response.delayMilliseconds) { [weak self] in self?.startResponse() }
    }

    private func startResponse() {
        stepScheduled = false
        guard !cancelled, let delegate, let response else { return }
        responseStarted = true
        delegate.legResponseStarted(self)
        if let problem = response.problem {
            return fail(FlowError(.badResponse, problem))
        }
        delegate.leg(self, receivedHead: LegResponseHead(received: response.head, framing: response.framing,
                                                         statedContentLength: response.statedContentLength,
                                                         endsStream: response.headEndsStream))
        guard webSocket == nil else { return } // the owner takes the connection over (`takeOver`)
        sendNextChunk()
    }

    /// Hands the owner the next piece of the body (or the end), then schedules the next
    /// step unless a pause reason holds the leg (`resumeReading` schedules it then).
    private func sendNextChunk() {
        guard !cancelled, let delegate, let response else { return }
        let chunk: [UInt8]
        switch response.body {
        case .generated(let bytes):
            chunk = bodyOffset == 0 ? bytes : []
        case .recorded(let body):
            guard response.framing != .none else {
                chunk = []
                break
            }
            do {
                chunk = try body.bytes(from: bodyOffset, maxCount: Self.chunkSize)
            } catch {
                return fail(FlowError(.badResponse, "the recorded response body cannot be read: \(error)"))
            }
        }
        if chunk.isEmpty {
            self.response = nil
            reused = true // the next request on this leg
            poolable = true
            delegate.leg(self, receivedEnd: response.trailers)
            delegate.legFinishedInput(self)
            return
        }
        bodyOffset += UInt64(chunk.count)
        delegate.leg(self, receivedBody: chunk[...])
        delegate.legFinishedInput(self)
        scheduleNextChunk()
    }

    private func scheduleNextChunk() {
        guard paused.isEmpty, !stepScheduled, !cancelled, response != nil else { return }
        stepScheduled = true
        _ = loop.scheduleTimer(milliseconds: 0) { [weak self] in
            guard let self else { return }
            self.stepScheduled = false
            if self.paused.isEmpty { self.sendNextChunk() }
        }
    }

    private func fail(_ error: FlowError) {
        response = nil
        poolable = false
        delegate?.leg(self, failed: error)
        delegate?.legFinishedInput(self)
    }

    func pauseReading(_ reason: LegPauseReason) {
        paused.insert(reason)
        fallbackLeg?.pauseReading(reason)
    }

    func resumeReading(_ reason: LegPauseReason) {
        paused.remove(reason)
        fallbackLeg?.resumeReading(reason)
        scheduleNextChunk()
    }

    func consumed(_ count: Int) {
        fallbackLeg?.consumed(count)
    }

    func cancel() {
        cancelled = true
        poolable = false
        response = nil
        if let fallbackLeg, let fallbackLegs {
            fallbackLegs.discard(fallbackLeg)
            self.fallbackLeg = nil
        }
    }

    /// After the 101 of an accepted WebSocket: the server end that plays its conversation.
    func takeOver() -> (stream: any ByteStream, unparsed: [UInt8])? {
        guard let answer = webSocket, !cancelled else { return nil }
        webSocket = nil
        response = nil
        poolable = false
        let responder = self.responder
        return (MockWebSocketServer(loop: loop, answer: answer, log: { responder.note($0) }), [])
    }

    // MARK: Fallback (`--fallback URL`)

    /// Sends the request, as received, to `fallbackTarget` over a real leg (Host rewritten to it).
    private func forward(_ request: HTTPRequestHead, to fallbackTarget: UpstreamTarget) {
        guard let fallbackLegs else { return }
        let legRequest = UpstreamLegRequest(target: fallbackTarget, offer: .http1, timings: timings)
        fallbackLegs.leg(for: legRequest) { [weak self] result in
            guard let self, !self.cancelled else {
                if case .success(let leg) = result { fallbackLegs.discard(leg) }
                return
            }
            switch result {
            case .success(let leg):
                self.fallbackLeg = leg
                leg.delegate = self
                var head = request
                head.headers.replaceOrAdd(name: "Host", value: fallbackTarget.authority)
                let body = self.requestBody.bytes
                let hasBody = !body.isEmpty || self.requestTrailers != nil
                leg.sendHead(.http1(head), endStream: !hasBody)
                if hasBody {
                    if !body.isEmpty { leg.sendBody(body[...]) }
                    leg.sendEnd(trailers: self.requestTrailers)
                }
                self.requestBody = MockLiveRequestBody()
            case .failure(let failure):
                self.responseStarted = false
                self.fail(failure.error)
            }
        }
    }

    func legResponseStarted(_ leg: any HTTPClientLeg) {
        responseStarted = true
        delegate?.legResponseStarted(self)
    }

    func leg(_ leg: any HTTPClientLeg, receivedHead head: LegResponseHead) {
        delegate?.leg(self, receivedHead: head)
    }

    func leg(_ leg: any HTTPClientLeg, receivedBody bytes: ArraySlice<UInt8>) {
        delegate?.leg(self, receivedBody: bytes)
    }

    func leg(_ leg: any HTTPClientLeg, receivedEnd trailers: HTTPHeaders?) {
        fallbackLegs?.release(leg)
        fallbackLeg = nil
        reused = true
        poolable = true
        delegate?.leg(self, receivedEnd: trailers)
    }

    func leg(_ leg: any HTTPClientLeg, failed error: FlowError) {
        fallbackLegs?.discard(leg)
        fallbackLeg = nil
        poolable = false
        delegate?.leg(self, failed: error)
    }

    func legBecameWritable(_ leg: any HTTPClientLeg) {
        delegate?.legBecameWritable(self)
    }

    func legFinishedInput(_ leg: any HTTPClientLeg) {
        delegate?.legFinishedInput(self)
    }
}
