import TaplineFlow
import TaplineHTTPClient
import TaplineWire

/// The HTTP/1.1 upstream of one HTTP/2 client stream: serializes the translated
/// request (Content-Length kept, otherwise chunked so trailers can follow) and
/// parses the response, which is pulled only while the client stream's send
/// queue is below `maxQueuedToClient`, so a slow HTTP/2 reader stops this socket
/// being read and nothing grows without bound. The socket is not read either
/// while the handler has paused it for the capture writer (`pauseForRecorder`),
/// whatever the parser holds: a client with large windows drains the send queue
/// at once, so the queue alone would let a download be read and recorded on.
///
/// Reuse: when the response has ended, the connection goes back to the
/// handler's `pool` if it can carry another request (`responseFinished`),
/// else it is closed. Once released (parked or closed) the leg never touches
/// the connection again, even though its exchange may still refer to it.
///
/// Thread ownership: confined to the handler's loop; owned by its exchange.
final class HTTP1UpstreamLeg: ByteStreamDelegate {
    let connection: UpstreamConnection
    private weak var exchange: HTTP2StreamExchange?
    private var parser: HTTP1ResponseParser
    private let chunked: Bool
    private var readPaused = false
    /// Set by the handler while the capture writer is backed up (`pauseForRecorder`).
    private var pausedForRecorder = false
    private var finished = false
    private var inInterimResponse = false
    /// The connection came from the pool (it may have timed out at the server: see `streamDidReadEOF`).
    let reused: Bool
    private weak var pool: HTTP1UpstreamPool?
    /// The request, body and all, was handed to the connection (`endBody`).
    private var requestSent = false
    /// The final response ended and its head allows another request on the connection.
    private var responseAllowsReuse = false
    private var responseEnded = false
    /// The upstream's EOF was read: what the parser holds is all the response there
    /// is. It may still be waiting for the client's queue to drain (`pull`).
    private var upstreamClosed = false
    /// The connection was parked or closed: no longer this leg's.
    private var released = false
    /// Response body bytes queued toward the client above which the parser is not pulled.
    static let maxQueuedToClient = BufferLimits.http2StreamSendQueue

    init(connection: UpstreamConnection, exchange: HTTP2StreamExchange, request: HTTPRequestHead, hasBody: Bool,
         limits: HTTP1Limits, reused: Bool, pool: HTTP1UpstreamPool) {
        self.connection = connection
        self.exchange = exchange
        self.reused = reused
        self.pool = pool
        parser = HTTP1ResponseParser(limits: limits)
        parser.expectResponse(toMethod: request.method)
        var head = request
        chunked = hasBody && !request.headers.contains(name: "Content-Length")
        if chunked { head.headers = HTTP1HeadRewriter.framed(head.headers, .chunked) }
        connection.stream.delegate = self
        connection.stream.resumeReading()
        connection.stream.write(HTTP1Serializer.requestHead(head))
    }

    var isWritable: Bool { connection.stream.isWritable }

    func sendBody(_ bytes: [UInt8]) {
        guard !released else { return }
        connection.stream.write(chunked ? HTTP1Serializer.chunk(bytes) : bytes)
    }

    func endBody(trailers: HTTPHeaders?) {
        guard !released else { return }
        requestSent = true
        if chunked {
            let forwarded = HTTP1HeadRewriter.forwardableTrailers(trailers.map(HTTP2HeadTranslator.http1Fields))
            connection.stream.write(HTTP1Serializer.lastChunk(trailers: forwarded))
        }
    }

    func close() {
        finished = true
        guard !released else { return }
        released = true
        connection.stream.delegate = nil
        connection.stream.close()
    }

    /// Pulls response events while the client stream can take them.
    func pull() {
        guard !finished, let exchange else { return }
        let handler = exchange.handler
        while !finished, handler.queuedToClient(exchange) < Self.maxQueuedToClient {
            let event: HTTP1ResponseEvent?
            do {
                event = try parser.nextEvent()
            } catch {
                finished = true
                handler.upstreamLost(exchange, error: FlowError(.badResponse,
                    "\(connection.target.hostPort) sent an invalid response: \(error)"))
                return
            }
            guard let event else {
                if upstreamClosed {
                    // The parser gave all it had, and nothing more will come.
                    finished = true
                    handler.upstreamLost(exchange, error: FlowError(.upstreamAborted,
                        "\(connection.target.hostPort) closed the connection before the response was complete"))
                    return
                }
                break
            }
            switch event {
            case .head(let head):
                inInterimResponse = head.isInterim
                let framing = HTTP1BodyFraming(parser.messageFraming)
                if !head.isInterim {
                    responseAllowsReuse = HTTP1BodyFraming.allowsReuse(after: head, framing: framing)
                }
                handler.http1ResponseHead(head, framing: framing, statedContentLength: parser.statedContentLength,
                                          for: exchange)
            case .body(let bytes):
                handler.http1ResponseBody(Array(bytes), for: exchange)
            case .end(let trailers):
                if inInterimResponse {
                    inInterimResponse = false // the end of a 1xx head, not of the response
                } else {
                    responseEnded = true
                    handler.http1ResponseEnd(trailers: trailers, for: exchange)
                }
            }
        }
        updateReadInterest()
    }

    /// Stops (true) or allows again (false) reading the socket because the capture
    /// writer is backed up; reading resumes only once the parser has room too.
    /// No effect once the connection is no longer this leg's to read.
    func pauseForRecorder(_ paused: Bool) {
        pausedForRecorder = paused
        guard !finished, !released else { return }
        updateReadInterest()
    }

    private func updateReadInterest() {
        let pause = pausedForRecorder || parser.bufferedByteCount > BufferLimits.http1UpstreamParserInputPerStream
        if pause != readPaused {
            readPaused = pause
            if pause { connection.stream.pauseReading() } else { connection.stream.resumeReading() }
        }
    }

    /// The upstream switched protocols (101): parsing stops and the connection is the
    /// caller's from now on. Returns the bytes that followed the 101 head.
    func takeOver() -> [UInt8] {
        finished = true
        connection.stream.delegate = nil
        return parser.takeUnparsedBytes()
    }

    /// The response ended (or failed): the connection is done here. It goes back to
    /// the pool only if the request was sent whole, the response ended cleanly and
    /// allows reuse (framed, no `Connection: close`), and nothing follows it;
    /// otherwise it is closed once its output is flushed. Called again: no effect.
    func responseFinished() {
        finished = true
        guard !released else { return }
        released = true
        connection.stream.delegate = nil
        if requestSent, responseEnded, responseAllowsReuse, !upstreamClosed, parser.bufferedByteCount == 0, let pool {
            pool.park(connection)
        } else {
            connection.stream.closeAfterFlush()
        }
    }

    /// A pooled connection that ends before any response byte most likely timed out at
    /// the server as we reused it: the handler may send the request again on a new one.
    private func retriedAfterStaleReuse() -> Bool {
        guard reused, !finished, let exchange, exchange.timings.value.firstResponseByte == nil else { return false }
        return exchange.handler.retryOnFreshConnection(exchange)
    }

    // MARK: ByteStreamDelegate

    func stream(_ stream: any ByteStream, didRead bytes: ArraySlice<UInt8>) {
        guard let exchange else { return }
        if exchange.timings.value.firstResponseByte == nil { exchange.timings.value.firstResponseByte = .now() }
        parser.append(bytes)
        pull()
        exchange.handler.pumpAfterUpstreamInput()
    }

    /// The upstream closed: the response ends with what the parser holds, which `pull`
    /// hands on as the client's queue allows (an error if it is cut short).
    func streamDidReadEOF(_ stream: any ByteStream) {
        if retriedAfterStaleReuse() { return }
        try? parser.finish()
        upstreamClosed = true
        pull()
        exchange?.handler.pumpAfterUpstreamInput()
    }

    func stream(_ stream: any ByteStream, writabilityChanged isWritable: Bool) {
        guard isWritable, let exchange else { return }
        exchange.handler.http1UpstreamWritable(exchange)
    }

    func stream(_ stream: any ByteStream, didCloseWith error: (any Error)?) {
        if retriedAfterStaleReuse() { return }
        guard !finished, let exchange else { return }
        finished = true
        exchange.handler.upstreamLost(exchange, error: FlowError(.upstreamAborted,
            "\(connection.target.hostPort) closed the connection\(error.map { ": \($0)" } ?? "")"))
        exchange.handler.pumpAfterUpstreamInput()
    }
}
