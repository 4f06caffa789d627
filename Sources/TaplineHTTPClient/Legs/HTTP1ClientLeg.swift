import TaplineFlow
import TaplineWire

/// An `HTTPClientLeg` over an HTTP/1.1 connection: serializes each request
/// (framed as its head says: Content-Length kept, otherwise chunked when a body
/// follows, so trailers can too) and runs the one HTTP/1 response loop: interim
/// 1xx heads passed on and their end swallowed, the final head with its framing,
/// body, end; keep-alive decided by `HTTP1BodyFraming.allowsReuse`.
///
/// Reading is pull-based: the parser is pulled only while no `LegPauseReason`
/// holds the leg (the owner pauses `.clientSlow` when its client is full and
/// `.captureBackedUp` while the recorder is), and the socket is not read while
/// paused or while the parser holds more than `maxBufferedInput` unparsed bytes.
/// So a slow reader or a backed-up capture stops the upstream being read.
///
/// Lifecycle (`Phase`): idle → exchanging (`sendHead`) → idle again when the
/// response ended and the connection may carry another request, else finished
/// (nothing more is read; the owner cancels or releases it). While idle nobody may
/// speak on the connection: anything the server sends, or its close, ends it.
/// Released, cancelled, closed or taken over, the leg is detached and never
/// touches the connection again.
///
/// Thread ownership: confined to the connection's loop; owned by its owner, which
/// it holds weakly (`delegate`). The stream holds the leg as its delegate.
public final class HTTP1ClientLeg: HTTPClientLeg, ByteStreamDelegate {
    private enum Phase {
        /// No request in flight; the connection may carry one (`poolable`). The parser is
        /// idle (awaiting a head, no byte buffered): it is fresh, or the last response ended
        /// with it idle (`deliver`'s `.end`), so the next request's response reuses it.
        case idle
        /// A request was started; its response has not ended.
        case exchanging
        /// The response ended or failed and the connection cannot carry another request.
        case finished
        /// The connection is no longer this leg's.
        case detached
    }

    public weak var delegate: (any HTTPClientLegDelegate)?
    private let upstream: UpstreamConnection
    private var parser: HTTP1ResponseParser
    private var phase = Phase.idle
    private var pauses = LegReadPauses()
    private var socketReadPaused = false
    private var pulling = false
    private var pullAgain = false
    public private(set) var reused: Bool

    // The request in flight.
    private var requestChunked = false
    /// The request, body and all, was handed to the connection.
    private var requestSent = false
    public private(set) var responseStarted = false
    /// Between an interim (1xx) head and its `.end`.
    private var inInterimResponse = false
    private var finalHeadDelivered = false
    private var responseAllowsReuse = false
    /// The server's FIN (or the socket's close) was seen: when the parser has nothing
    /// more, a response not ended is lost.
    private var inputEnded = false
    private var closeError: (any Error)?
    /// Response events delivered so far: tells whether `resumeReading` delivered any.
    private var eventsDelivered = 0

    /// Unparsed response bytes above which the socket is not read
    /// (`HTTPClientBufferLimits.http1ParserInput(for:)`: a head within the limits fits whole).
    private let maxBufferedInput: Int

    /// Takes `upstream` (becomes its stream's delegate). `reused`: it carried requests
    /// before (an idle connection from a pool).
    public init(upstream: UpstreamConnection, reused: Bool, limits: HTTP1Limits) {
        self.upstream = upstream
        self.maxBufferedInput = HTTPClientBufferLimits.http1ParserInput(for: limits)
        self.reused = reused
        parser = HTTP1ResponseParser(limits: limits)
        upstream.stream.delegate = self
        upstream.stream.resumeReading()
    }

    public var target: UpstreamTarget { upstream.target }
    public var serverAddress: String { upstream.serverAddress }
    public var tls: TLSDetails? { upstream.tls }
    public var poolable: Bool { phase == .idle }
    public var isWritable: Bool { upstream.stream.isWritable }

    // MARK: Request

    public func sendHead(_ head: LegRequestHead, endStream: Bool) {
        guard phase == .idle else { return }
        var request: HTTPRequestHead
        switch head {
        case .http1(let head): request = head
        case .http2(let fields): request = HTTP2HeadTranslator.http1Request(fields)
        }
        requestChunked = !endStream && !request.headers.contains(name: "Content-Length")
        if requestChunked { request.headers = HTTP1HeadRewriter.framed(request.headers, .chunked) }
        phase = .exchanging
        requestSent = endStream
        responseStarted = false
        inInterimResponse = false
        finalHeadDelivered = false
        responseAllowsReuse = false
        inputEnded = false
        closeError = nil
        // Idle means the parser awaits a head with nothing buffered (see `Phase.idle`):
        // it carries on with the next response, its buffer and queue kept (no allocation).
        parser.expectResponse(toMethod: request.method)
        updateSocketReading()
        HTTP1Serializer.withRequestHead(request) { upstream.stream.write(copying: $0) }
    }

    public func sendBody(_ bytes: ArraySlice<UInt8>) {
        guard phase == .exchanging, !requestSent else { return }
        if requestChunked {
            upstream.stream.write(HTTP1Serializer.chunk(bytes))
        } else {
            upstream.stream.write(bytes)
        }
    }

    public func sendEnd(trailers: HTTPHeaders?) {
        guard phase == .exchanging, !requestSent else { return }
        requestSent = true
        if requestChunked {
            upstream.stream.write(HTTP1Serializer.lastChunk(trailers: HTTP1HeadRewriter.forwardableTrailers(trailers)))
        }
    }

    // MARK: Reading

    public func pauseReading(_ reason: LegPauseReason) {
        if pauses.pause(reason) { updateSocketReading() }
    }

    public func resumeReading(_ reason: LegPauseReason) {
        guard pauses.resume(reason) else { return }
        guard phase == .exchanging, let delegate else { return updateSocketReading() }
        // Events that waited are delivered inside this call: a batch of their own.
        let before = eventsDelivered
        pull(delegate)
        if eventsDelivered != before { delegate.legFinishedInput(self) }
    }

    public func consumed(_ count: Int) {}

    /// Pulls response events while no reason holds the leg; a response not ended when
    /// the input ended and the parser has nothing more is lost.
    private func pull(_ delegate: any HTTPClientLegDelegate) {
        if pulling {
            pullAgain = true
            return
        }
        pulling = true
        defer { pulling = false }
        repeat {
            pullAgain = false
            while phase == .exchanging, !pauses.isPaused {
                let next: HTTP1ResponseEvent?
                do {
                    next = try parser.nextEvent()
                } catch {
                    fail(FlowError(.badResponse, "\(upstream.target.hostPort) sent an invalid response: \(error)"),
                         delegate: delegate)
                    return
                }
                // Moved, not copied: the optional is then not destroyed as well (its destroy
                // goes through the runtime's generic value witnesses, for every event).
                guard let event = consume next else {
                    if inputEnded { fail(lostError, delegate: delegate) }
                    break
                }
                deliver(event, to: delegate)
            }
        } while pullAgain
        updateSocketReading()
    }

    private func deliver(_ event: HTTP1ResponseEvent, to delegate: any HTTPClientLegDelegate) {
        eventsDelivered += 1
        switch event {
        case .head(let head):
            let framing = HTTP1BodyFraming(parser.messageFraming)
            if head.isInterim {
                inInterimResponse = true
            } else {
                finalHeadDelivered = true
                // After a 101 the connection speaks another protocol (the owner takes it over).
                responseAllowsReuse = head.status != 101 && HTTP1BodyFraming.allowsReuse(after: head, framing: framing)
            }
            delegate.leg(self, receivedHead: LegResponseHead(received: head, framing: framing,
                                                             statedContentLength: parser.statedContentLength))
        case .body(let bytes):
            delegate.leg(self, receivedBody: bytes)
        case .end(let trailers):
            if inInterimResponse {
                inInterimResponse = false // the end of a 1xx head, not of the response
                return
            }
            // `parser.isIdle`: awaiting the next head with nothing buffered, what `Phase.idle` promises
            // (not so after a 2xx to CONNECT: the connection is a tunnel now).
            let reusable = requestSent && responseAllowsReuse && !inputEnded && parser.isIdle
            phase = reusable ? .idle : .finished
            reused = true // whatever comes next on this connection goes over a used one
            delegate.leg(self, receivedEnd: trailers)
        }
    }

    private func fail(_ error: FlowError, delegate: any HTTPClientLegDelegate) {
        phase = .finished
        eventsDelivered += 1
        delegate.leg(self, failed: error)
    }

    /// What a response cut by the connection's end is reported as.
    private var lostError: FlowError {
        let reason = closeError.map { " (\($0))" } ?? ""
        let hostPort = upstream.target.hostPort
        return FlowError(.upstreamAborted, finalHeadDelivered
            ? "\(hostPort) closed the connection in the middle of the response body\(reason)"
            : "\(hostPort) closed the connection without sending a response\(reason)")
    }

    private func updateSocketReading() {
        guard phase != .detached else { return }
        let pause = pauses.isPaused || parser.bufferedByteCount > maxBufferedInput
        guard pause != socketReadPaused else { return }
        socketReadPaused = pause
        if pause { upstream.stream.pauseReading() } else { upstream.stream.resumeReading() }
    }

    // MARK: Letting go

    public func cancel() {
        guard phase != .detached else { return }
        phase = .detached
        upstream.stream.delegate = nil
        upstream.stream.close()
    }

    public func takeOver() -> (stream: any ByteStream, unparsed: [UInt8])? {
        guard phase == .exchanging else { return nil }
        phase = .detached
        upstream.stream.delegate = nil
        return (upstream.stream, parser.takeUnparsedBytes())
    }

    /// The connection ended while idle (or its idle server spoke): it can carry nothing more.
    private func dropIdleConnection() {
        phase = .detached
        upstream.stream.delegate = nil
        upstream.stream.close()
    }

    // MARK: ByteStreamDelegate

    public func stream(_ stream: any ByteStream, didRead bytes: ArraySlice<UInt8>) {
        switch phase {
        case .exchanging:
            guard let delegate else { return }
            if !responseStarted {
                responseStarted = true
                delegate.legResponseStarted(self)
            }
            parser.append(bytes)
            pull(delegate)
            delegate.legFinishedInput(self)
        case .idle:
            dropIdleConnection() // an idle HTTP/1.1 server has nothing to say
        case .finished, .detached:
            break
        }
    }

    public func streamDidReadEOF(_ stream: any ByteStream) {
        switch phase {
        case .exchanging:
            guard let delegate else { return }
            inputEnded = true
            do {
                try parser.finish()
            } catch {
                fail(lostError, delegate: delegate) // a framed response cut short
                delegate.legFinishedInput(self)
                return
            }
            pull(delegate)
            delegate.legFinishedInput(self)
        case .idle:
            dropIdleConnection()
        case .finished, .detached:
            break
        }
    }

    /// The server hung up while the leg was paused: an idle connection is over now;
    /// during an exchange the EOF is read once reading resumes.
    public func streamPeerHungUpWhilePaused(_ stream: any ByteStream) {
        if phase == .idle { dropIdleConnection() }
    }

    public func stream(_ stream: any ByteStream, writabilityChanged isWritable: Bool) {
        guard isWritable, phase == .exchanging, let delegate else { return }
        delegate.legBecameWritable(self)
    }

    public func stream(_ stream: any ByteStream, didCloseWith error: (any Error)?) {
        switch phase {
        case .exchanging:
            inputEnded = true
            closeError = error
            guard let delegate else { return }
            do {
                try parser.finish()
            } catch {
                fail(lostError, delegate: delegate) // cut short (a reset, or a FIN mid-message): the upstream aborted
                delegate.legFinishedInput(self)
                return
            }
            pull(delegate)
            delegate.legFinishedInput(self)
        case .idle:
            phase = .detached
        case .finished, .detached:
            break
        }
    }
}
