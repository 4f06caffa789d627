import TaplineFlow
import TaplineHTTP2
import TaplineHTTPClient
import TaplineNet
import TaplineWire

/// Presents an HTTP/2 upstream connection as an HTTP/1.1 byte stream, so an
/// `HTTP1ProxyHandler` serving an HTTP/1.1 client talks to an h2 upstream
/// unchanged: each HTTP/1.1 request written to it (already rewritten for
/// upstream) becomes one HTTP/2 stream, and that stream's response comes back
/// as HTTP/1.1 bytes (Content-Length kept, otherwise chunked, so trailers
/// reach the client).
///
/// Flow control: response DATA is credited back to the upstream only when
/// handed to the delegate; while the delegate has paused reading, responses
/// wait here (at most one stream window). `isWritable` is false while the
/// current stream has 256 KiB queued or the socket is above its watermark.
///
/// Invariants: at most one stream at a time (the HTTP/1.1 handler has one
/// exchange in flight); `didCloseWith` is delivered once, never from inside
/// `close()`.
///
/// Thread ownership: confined to the connection's loop; owned by the handler
/// through its `UpstreamConnection`.
final class HTTP1OverHTTP2Stream: ByteStream, HTTP2UpstreamConnectionOwner, HTTP2UpstreamStreamDelegate {
    weak var delegate: (any ByteStreamDelegate)?
    let transport: any ByteStreamTransport
    private let target: UpstreamTarget
    private var h2: HTTP2UpstreamConnection?
    private var requestParser: HTTP1RequestParser
    private var stream: Int32?
    private var pendingHead: HTTPRequestHead?
    private var requestMethod = "GET"
    private var responseChunked = false
    /// The HTTP/2 response heads (`:status` and fields as received) whose HTTP/1.1
    /// translation was delivered and not yet claimed by `takeReceivedHead`, oldest first.
    private var receivedHeads: [HTTPResponseHead] = []
    /// Response bytes not yet handed to the delegate (paused), with the DATA bytes they hold.
    private var undelivered: [(bytes: [UInt8], credit: Int, stream: Int32)] = []
    private var readPaused = false
    private var wasWritable = true
    private var closedByOwner = false
    private var reportedClose = false
    private var pumping = false
    private var pumpAgain = false
    /// Why the connection lost the current stream (`upstreamStream(_:lost:)`): what the
    /// handler is told when the connection's close is reported, so a broken upstream
    /// reads as such rather than as a plain close.
    private var lostStreamError: FlowError?
    static let maxQueuedPerStream = BufferLimits.http2StreamSendQueue

    /// Wraps `upstream` when it speaks HTTP/2 (ALPN h2, or `priorKnowledge`); otherwise returns it.
    static func adapt(_ upstream: UpstreamConnection, priorKnowledge: Bool, limits: HTTP1Limits) -> UpstreamConnection {
        guard priorKnowledge || upstream.tls?.alpn == "h2" else { return upstream }
        let adapter = HTTP1OverHTTP2Stream(target: upstream.target, transport: upstream.stream.transport, limits: limits)
        do {
            adapter.h2 = try HTTP2UpstreamConnection(upstream: upstream, owner: adapter)
        } catch {
            return upstream // cannot allocate a session: let HTTP/1.1 fail visibly on it
        }
        return UpstreamConnection(target: upstream.target, stream: adapter, tls: upstream.tls)
    }

    private init(target: UpstreamTarget, transport: any ByteStreamTransport, limits: HTTP1Limits) {
        self.target = target
        self.transport = transport
        self.requestParser = HTTP1RequestParser(limits: limits)
    }

    var isWritable: Bool {
        guard let h2, !h2.closed else { return true } // writes are dropped; the close is reported
        let queued = stream.map { h2.session.bufferedBytes(stream: $0) } ?? 0
        return h2.upstream.stream.isWritable && queued < Self.maxQueuedPerStream
    }

    // MARK: Requests (HTTP/1.1 bytes in)

    /// False: every write runs the request parser.
    var coalescesSmallWrites: Bool { false }

    func write(_ bytes: some Collection<UInt8>) {
        guard let h2, !closedByOwner, !h2.closed else { return }
        requestParser.append(bytes)
        while true {
            let event: HTTP1RequestEvent?
            do {
                event = try requestParser.nextEvent()
            } catch {
                failStream(FlowError(.badRequest, "cannot translate the request to HTTP/2: \(error)"))
                return
            }
            guard let event else { break }
            switch event {
            case .head(let head):
                requestMethod = head.method
                pendingHead = head
            case .body(let body):
                openPendingStream(endStream: false)
                if let stream { h2.session.send(data: Array(body), stream: stream) }
            case .end(let trailers):
                if pendingHead != nil {
                    openPendingStream(endStream: trailers == nil)
                    if let trailers, let stream {
                        h2.session.finish(stream: stream, trailers: HTTP2HeadTranslator.http2Trailers(trailers))
                    }
                } else if let stream {
                    h2.session.finish(stream: stream, trailers: HTTP2HeadTranslator.http2Trailers(trailers))
                }
                requestParser.resumeAfterDeclinedUpgrade()
            }
        }
        openPendingStream(endStream: false)
        pump()
    }

    private func openPendingStream(endStream: Bool) {
        guard let head = pendingHead, let h2 else { return }
        pendingHead = nil
        let fields = HTTP2HeadTranslator.http2Request(head, scheme: target.scheme.rawValue,
                                                      defaultAuthority: target.authority)
        do {
            stream = try h2.open(fields, endStream: endStream, delegate: self)
        } catch {
            failStream(FlowError(.upstreamUnreachable, "\(target.hostPort) does not take another HTTP/2 stream: \(error)"))
        }
    }

    // MARK: Responses (HTTP/1.1 bytes out)

    func upstreamStream(_ id: Int32, received event: HTTP2Event) {
        switch event {
        case .headers(_, let fields, .informational, _):
            receivedHeads.append(HTTP2HeadTranslator.capturedResponse(fields))
            deliver(HTTP1Serializer.responseHead(http1Head(fields, framing: nil)), credit: 0, stream: id)
        case .headers(_, let fields, .response, let endStream):
            let status = fields.http2Status ?? 0
            let noBody = requestMethod == "HEAD" || status == 204 || status == 304
            var framing: (name: String, value: String)?
            if !noBody, !fields.contains(name: "content-length") {
                framing = endStream ? ("content-length", "0") : ("transfer-encoding", "chunked")
            }
            responseChunked = framing?.name == "transfer-encoding"
            receivedHeads.append(HTTP2HeadTranslator.capturedResponse(fields))
            deliver(HTTP1Serializer.responseHead(http1Head(fields, framing: framing)), credit: 0, stream: id)
            if endStream { streamFinished() }
        case .headers(_, let fields, _, _):
            if responseChunked { deliver(HTTP1Serializer.lastChunk(trailers: HTTP2HeadTranslator.http1Fields(fields)), credit: 0, stream: id) }
            streamFinished()
        case .oversizedHeaders(_, _, let kind, _, let size):
            failStream(HTTP2OversizedHeaders.upstreamError(kind: kind, size: size,
                                                           limit: h2?.session.settings.maxHeaderListSize ?? 0,
                                                           upstream: target.hostPort))
        case .data(_, let bytes):
            deliver(responseChunked ? HTTP1Serializer.chunk(bytes) : bytes, credit: bytes.count, stream: id)
        case .endStream:
            if responseChunked { deliver(HTTP1Serializer.lastChunk(trailers: nil), credit: 0, stream: id) }
            streamFinished()
        case .streamReset(_, let code), .streamClosed(_, let code):
            guard stream == id else { return }
            stream = nil
            failStream(FlowError(.upstreamAborted, "\(target.hostPort) reset the HTTP/2 stream with \(code)"))
        case .dataSent:
            break
        case .settings, .goAway:
            break
        }
    }

    /// The HTTP/2 head behind the next HTTP/1.1 response head the handler parses from
    /// this stream, so the capture records the head as the upstream sent it.
    func takeReceivedHead() -> HTTPResponseHead? {
        receivedHeads.isEmpty ? nil : receivedHeads.removeFirst()
    }

    func upstreamStream(_ id: Int32, lost error: FlowError) {
        guard stream == id else { return }
        stream = nil
        lostStreamError = error
    }

    private func http1Head(_ fields: HTTPHeaders, framing: (name: String, value: String)?) -> HTTPResponseHead {
        var headers = HTTP2HeadTranslator.http1Fields(fields)
        if let framing { headers.add(name: framing.name, value: framing.value) }
        let status = fields.http2Status ?? 502
        // HTTP/2 has no reason phrase; an HTTP/1.1 client gets the standard one rather than none
        // (h2load, for one, counts a status line without a reason as a failed request).
        return HTTPResponseHead(version: .http1_1, status: status, reason: HTTPStatusText.reason(status), headers: headers)
    }

    private func streamFinished() {
        stream = nil
        responseChunked = false
    }

    private func deliver(_ bytes: [UInt8], credit: Int, stream id: Int32) {
        if readPaused || !undelivered.isEmpty {
            undelivered.append((bytes, credit, id))
            return
        }
        if credit > 0 { h2?.session.consume(stream: id, count: credit) }
        delegate?.stream(self, didRead: bytes[...])
    }

    private func deliverQueued() {
        while !readPaused, !undelivered.isEmpty {
            let (bytes, credit, id) = undelivered.removeFirst()
            if credit > 0 { h2?.session.consume(stream: id, count: credit) }
            delegate?.stream(self, didRead: bytes[...])
        }
    }

    /// The current stream cannot go on: report the connection as lost to the HTTP/1 handler.
    private func failStream(_ error: FlowError) {
        h2?.close()
        reportClose(error)
    }

    private func reportClose(_ error: (any Error)?) {
        guard !reportedClose, !closedByOwner else { return }
        reportedClose = true
        delegate?.stream(self, didCloseWith: error)
    }

    // MARK: Pump

    private func pump() {
        if pumping {
            pumpAgain = true
            return
        }
        pumping = true
        repeat {
            pumpAgain = false
            h2?.dispatchEvents()
            h2?.flush()
        } while pumpAgain || (h2?.hasEvents ?? false)
        pumping = false
        let writable = isWritable
        if writable, !wasWritable {
            wasWritable = true
            delegate?.stream(self, writabilityChanged: true)
        } else if !writable {
            wasWritable = false
        }
    }

    func upstreamConnectionNeedsPump(_ connection: HTTP2UpstreamConnection) { pump() }

    func upstreamConnection(_ connection: HTTP2UpstreamConnection, received event: HTTP2Event) {}

    func upstreamConnectionClosed(_ connection: HTTP2UpstreamConnection) {
        deliverQueued()
        reportClose(lostStreamError)
    }

    // MARK: ByteStream

    func pauseReading() { readPaused = true }

    func resumeReading() {
        guard readPaused else { return }
        readPaused = false
        deliverQueued()
        pump()
    }

    func shutdownWrite() {}

    func closeAfterFlush() { close() }

    func close() {
        guard !closedByOwner else { return }
        closedByOwner = true
        h2?.close()
    }
}
