/// Sans-I/O HTTP/1.1 response parser (RFC 9112) for the upstream side of the proxy.
///
/// The caller announces each request it forwarded, in order, with
/// `expectResponse(toMethod:)`: HEAD responses have no body, a 2xx to CONNECT
/// and a 101 switch protocols (the parser then stops; see `takeUnparsedBytes()`).
/// Bodiless statuses (1xx, 204, 304) are handled; a response without
/// Content-Length or chunked encoding is delimited by connection close, which
/// the caller reports with `finish()`. A response that arrives with no request
/// announced is read as the answer to a GET.
///
/// Interim responses (1xx other than 101) come as `head` + `end` and parsing
/// continues with the final response to the same request.
///
/// Framing (RFC 9112 §6.3): bodiless as above regardless of headers (but a HEAD,
/// 204 or 304 response whose Content-Length values disagree is refused: its stated
/// length is forwarded, see `statedContentLength`); otherwise
/// Transfer-Encoding with Content-Length is refused; a final coding of chunked
/// is decoded, any other final coding (or Transfer-Encoding in an HTTP/1.0
/// response) is read until close; then Content-Length; else until close.
/// The same strict line-ending and field rules as `HTTP1RequestParser` apply
/// (CRLF only; bare CR/LF, obs-fold, bad names or values throw). Errors are
/// sticky: every later `nextEvent()` throws the same error.
///
/// Not thread-safe: a value type owned by the connection (and so the event
/// loop) using it.
public struct HTTP1ResponseParser: Sendable, HTTP1PullParser {
    /// What about a request decides its response's framing.
    private enum RequestKind: Sendable {
        case head, connect, other
    }

    private enum State: Sendable {
        case awaitingHead
        case body(HTTP1BodyDecoder)
        /// After a 101 or a 2xx to CONNECT: the rest is not HTTP.
        case stopped
        /// A close-delimited body ended: nothing more can come.
        case closed
    }

    private let limits: HTTP1Limits
    private var buffer = HTTP1ByteBuffer()
    private var scanner = HTTP1SectionScanner()
    private var state = State.awaitingHead
    /// Where to go after the current message's `.end`.
    private var afterMessage = State.awaitingHead
    /// Whether the current body is delimited by close (its end closes the parser).
    private var bodyIsUntilClose = false
    /// Requests sent and not yet answered by a final response; `pendingStart` is the oldest.
    private var pending: [RequestKind] = []
    private var pendingStart = 0
    var failure: HTTP1ParseError?
    var receivedEOF = false
    /// How the body of the response whose head was returned last is delimited:
    /// `.none` for a bodiless status or a HEAD response (whatever its
    /// Content-Length says), `.length(5)` for `Content-Length: 5, 5`.
    public private(set) var messageFraming = HTTP1MessageFraming.none
    /// The Content-Length a bodiless final response (HEAD, 204, 304) stated, all its
    /// values agreeing (`5, 5` or two `5` lines give 5): the length of the representation,
    /// not of this message (RFC 9110 §8.6), which the proxy forwards as one field. Nil when
    /// it stated none (or a malformed one, forwarded as it is) and for any other head.
    public private(set) var statedContentLength: Int?

    public init(limits: HTTP1Limits = HTTP1Limits()) {
        self.limits = limits
    }

    /// Records that a request with `method` was sent; responses are matched in order.
    public mutating func expectResponse(toMethod method: String) {
        if pendingStart > 16 && pendingStart * 2 > pending.count {
            pending.removeSubrange(0..<pendingStart)
            pendingStart = 0
        }
        switch method {
        case "HEAD": pending.append(.head)
        case "CONNECT": pending.append(.connect)
        default: pending.append(.other)
        }
    }

    public mutating func append(_ bytes: ArraySlice<UInt8>) {
        bytes.withUnsafeBufferPointer { buffer.append($0) }
    }

    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { buffer.append($0) }
    }

    /// The next event, or nil when more input is needed (or the parser stopped
    /// after a protocol switch).
    public mutating func nextEvent() throws(HTTP1ParseError) -> HTTP1ResponseEvent? {
        try pull()
    }

    /// The upstream closed. Completes a close-delimited body (returned as `.end`
    /// from the next `nextEvent()`), or throws when a framed message was cut short
    /// (the pull that reaches the cut throws the same error). Closing while idle
    /// is fine.
    public mutating func finish() throws(HTTP1ParseError) {
        try markEndOfInput()
    }

    /// True when the current response body is delimited by connection close.
    public var isReadingUntilClose: Bool {
        if case .body(let decoder) = state { return decoder.isUntilClose }
        return false
    }

    /// True when no bytes of an unfinished response are buffered.
    public var isIdle: Bool {
        if case .awaitingHead = state { return buffer.readableCount == 0 }
        return false
    }

    public var bufferedByteCount: Int { buffer.readableCount }

    /// Removes and returns every byte buffered after the last parsed message:
    /// after a 101 or a 2xx to CONNECT, the first bytes of the new protocol.
    public mutating func takeUnparsedBytes() -> [UInt8] {
        scanner = HTTP1SectionScanner()
        return buffer.takeAll()
    }

    var isMidMessage: Bool {
        switch state {
        case .awaitingHead: return buffer.readableCount > 0
        case .body: return true
        case .stopped, .closed: return false
        }
    }

    mutating func step() throws(HTTP1ParseError) -> HTTP1ResponseEvent? {
        switch state {
        case .awaitingHead:
            guard let head = try readHead() else { return nil }
            return .head(head)
        case .body(var decoder):
            let step = try decoder.next(&buffer, limits: limits, atEOF: receivedEOF)
            switch step {
            case .body(let bytes):
                state = .body(decoder)
                return .body(bytes)
            case .end(let trailers):
                state = bodyIsUntilClose ? .closed : afterMessage
                return .end(trailers: trailers)
            case .needMoreData:
                state = .body(decoder)
                return nil
            }
        case .stopped, .closed:
            return nil
        }
    }

    private mutating func readHead() throws(HTTP1ParseError) -> HTTPResponseHead? {
        guard let length = try scanner.scan(buffer, limit: limits.maxHeaderSectionBytes,
                                            tooLarge: .headerSectionTooLarge(limit: limits.maxHeaderSectionBytes))
        else { return nil }

        let (line, headers, framing) = try buffer.withReadableBytes {
            (p: UnsafeBufferPointer<UInt8>) throws(HTTP1ParseError)
                -> (HTTP1StartLineParser.StatusLine, HTTPHeaders, HTTP1FramingFields) in
            var lineEnd = 0
            while p[lineEnd] != HTTP1ByteClass.cr { lineEnd += 1 }
            let line = try HTTP1StartLineParser.parseStatusLine(p, end: lineEnd)
            var framing = HTTP1FramingFields()
            let headers = try HTTP1FieldBlockParser.parse(p, from: lineEnd + 2, to: length - 2, framing: &framing)
            return (line, headers, framing)
        }
        let head = HTTPResponseHead(version: line.version, status: line.status, reason: line.reason, headers: headers)
        let request = pendingStart < pending.count ? pending[pendingStart] : .other

        let bodyFraming: HTTP1MessageFraming
        var stated: Int?
        if head.isInterim {
            bodyFraming = .none
            afterMessage = .awaitingHead
        } else {
            let status = head.status
            let switchesProtocol = status == 101 || (request == .connect && status >= 200 && status < 300)
            if switchesProtocol || status < 200 {
                bodyFraming = .none
            } else if request == .head || status == 204 || status == 304 {
                bodyFraming = .none
                stated = try Self.representationLength(framing)
            } else {
                bodyFraming = try Self.bodyFraming(headers: headers, framing: framing, version: line.version)
            }
            afterMessage = switchesProtocol ? .stopped : .awaitingHead
            if pendingStart < pending.count { pendingStart += 1 }
        }
        buffer.consume(length)
        messageFraming = bodyFraming
        statedContentLength = stated
        bodyIsUntilClose = bodyFraming == .untilClose
        state = .body(HTTP1BodyDecoder(framing: bodyFraming))
        return head
    }

    /// The length a bodiless response's Content-Length states (see `statedContentLength`).
    /// - Throws: `conflictingContentLength` when its values differ, `invalidContentLength`
    ///   when one is not a number: which length the client would believe is anyone's
    ///   guess (and an HTTP/2 client refuses such a field), as for a response with a body.
    private static func representationLength(_ framing: HTTP1FramingFields) throws(HTTP1ParseError) -> Int? {
        switch framing.contentLength {
        case .value(let n): return n
        case .conflicting: throw .conflictingContentLength
        case .invalid(let text): throw .invalidContentLength(text)
        case .absent: return nil
        }
    }

    private static func bodyFraming(headers: HTTPHeaders, framing: HTTP1FramingFields,
                                    version: HTTPVersion) throws(HTTP1ParseError) -> HTTP1MessageFraming {
        if framing.hasTransferEncoding {
            if framing.contentLength != .absent { throw .transferEncodingWithContentLength }
            if version == .http1_0 { return .untilClose }
            return headers.tokens(name: "transfer-encoding").last == "chunked" ? .chunked : .untilClose
        }
        switch framing.contentLength {
        case .absent: return .untilClose
        case .value(let n): return .length(n)
        case .invalid(let text): throw .invalidContentLength(text)
        case .conflicting: throw .conflictingContentLength
        }
    }
}
