import TaplineFlow
import TaplineHTTPClient
import TaplineNet
import TaplineWire

/// An `HTTPClientLeg` with no socket under it that answers every request with the
/// same canned response: what a mock server's leg will be. The request is taken in
/// whole (head, body, end); the response's events follow from a loop timer due at once,
/// as a socket's read would bring them: never inside the owner's call. `requests` lists what the owner sent.
///
/// Thread ownership: confined to `loop`; held by its owner (the handler under test)
/// and its source.
final class CannedResponseLeg: HTTPClientLeg {
    weak var delegate: (any HTTPClientLegDelegate)?
    let target: UpstreamTarget
    /// What the capture records as the server: no socket, so the mock says what it is.
    let serverAddress = "mock"
    let tls: TLSDetails? = nil
    private(set) var reused = false
    private(set) var responseStarted = false
    private(set) var poolable = true
    let isWritable = true
    private let loop: EventLoop
    private let head: HTTPResponseHead
    private let body: [UInt8]
    /// The request heads the owner sent, as `METHOD target`.
    private(set) var requests: [String] = []
    private(set) var cancelled = false

    /// Answers `head` (its Content-Length is set to the body's) and `body`.
    init(loop: EventLoop, target: UpstreamTarget, head: HTTPResponseHead, body: [UInt8]) {
        self.loop = loop
        self.target = target
        var head = head
        head.headers.replaceOrAdd(name: "Content-Length", value: String(body.count))
        self.head = head
        self.body = body
    }

    func sendHead(_ head: LegRequestHead, endStream: Bool) {
        guard case .http1(let request) = head else { return }
        requests.append("\(request.method) \(request.target)")
        poolable = false
        responseStarted = false
        if endStream { answerSoon() }
    }

    func sendBody(_ bytes: ArraySlice<UInt8>) {}

    func sendEnd(trailers: HTTPHeaders?) {
        answerSoon()
    }

    private func answerSoon() {
        _ = loop.scheduleTimer(milliseconds: 0) { [weak self] in self?.answer() }
    }

    private func answer() {
        guard !cancelled, let delegate else { return }
        responseStarted = true
        delegate.legResponseStarted(self)
        delegate.leg(self, receivedHead: LegResponseHead(received: head, framing: .contentLength(body.count),
                                                         statedContentLength: body.count))
        if !body.isEmpty { delegate.leg(self, receivedBody: body[...]) }
        poolable = true
        reused = true
        delegate.leg(self, receivedEnd: nil)
        delegate.legFinishedInput(self)
    }

    func pauseReading(_ reason: LegPauseReason) {}
    func resumeReading(_ reason: LegPauseReason) {}
    func consumed(_ count: Int) {}

    func cancel() {
        cancelled = true
        poolable = false
    }

    func takeOver() -> (stream: any ByteStream, unparsed: [UInt8])? { nil }
}
