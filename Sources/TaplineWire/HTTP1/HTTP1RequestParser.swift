/// Sans-I/O HTTP/1.1 request parser (RFC 9112) for the client side of the proxy.
///
/// Usage: `append(_:)` bytes as they arrive, then pull events with `nextEvent()`
/// until it returns nil (needs more bytes). Pulling is how the proxy applies
/// backpressure and serializes pipelined requests: it simply stops pulling after
/// an `.end` until the response is done; unparsed bytes stay buffered here.
/// Several requests in one append yield their events in order.
///
/// After the `.end` of a CONNECT request or of a request carrying an `Upgrade`
/// field (whether or not `Connection` lists it), the parser stops (returns nil) until the caller either takes the rest of the
/// stream with `takeUnparsedBytes()` (tunnel / protocol switch; the parser then
/// stays stopped and bytes appended later are only buffered) or calls
/// `resumeAfterDeclinedUpgrade()` (also right for a refused CONNECT).
///
/// Ambiguous or invalid framing throws `HTTP1ParseError` and the parser stays
/// failed (every later `nextEvent()` throws the same error): Transfer-Encoding
/// with Content-Length, differing or malformed Content-Lengths, any
/// Transfer-Encoding other than exactly `chunked` (`identity, chunked`,
/// `gzip, chunked`, `chunked, chunked`: a next hop may frame those differently),
/// Transfer-Encoding in HTTP/1.0, bad chunk
/// sizes or a missing CRLF after chunk data, obs-fold, whitespace before a
/// field name's colon, invalid token characters, controls in field values, a
/// missing (HTTP/1.1) or repeated Host, an oversized header section (checked
/// while it is still incomplete, too).
///
/// Line endings: strictly CRLF. A bare LF is refused (`bareLineFeed`) as well as
/// a bare CR: accepting LF-only lines would let a request that a strict next
/// hop frames differently through (request smuggling), and no real client
/// needs it. The only leniency: empty lines (CRLF) before a request line are
/// skipped (RFC 9112 §2.2).
///
/// Framing: after each `.head`, `messageFraming` says how that request's body is
/// delimited (`Content-Length: 5, 5` is `.length(5)`); a proxy frames what it
/// forwards from that, never from the received framing fields.
///
/// Work is done on bytes; fields become Strings only once complete. The search
/// for the end of the head resumes where it stopped, so feeding a head byte by
/// byte costs linear time. Body chunks are slices of the input buffer.
///
/// Not thread-safe: a value type owned by the connection (and so the event
/// loop) using it.
public struct HTTP1RequestParser: Sendable, HTTP1PullParser {
    private enum State: Sendable {
        case awaitingHead
        case body(HTTP1BodyDecoder)
        /// At a CONNECT/Upgrade boundary.
        case stopped
    }

    private let limits: HTTP1Limits
    private var buffer = HTTP1ByteBuffer()
    private var scanner = HTTP1SectionScanner()
    private var state = State.awaitingHead
    /// Whether the message being read is a CONNECT or carries Upgrade.
    private var stopAfterMessage = false
    var failure: HTTP1ParseError?
    var receivedEOF = false
    /// How the body of the request whose head was returned last is delimited
    /// (`.none` before the first head).
    public private(set) var messageFraming = HTTP1MessageFraming.none

    public init(limits: HTTP1Limits = HTTP1Limits()) {
        self.limits = limits
    }

    /// Adds bytes received from the peer.
    public mutating func append(_ bytes: ArraySlice<UInt8>) {
        bytes.withUnsafeBufferPointer { buffer.append($0) }
    }

    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { buffer.append($0) }
    }

    /// The next event, or nil when more input is needed (or the parser is
    /// stopped at an upgrade/CONNECT boundary).
    public mutating func nextEvent() throws(HTTP1ParseError) -> HTTP1RequestEvent? {
        try pull()
    }

    /// The peer closed its side. Throws `truncatedMessage` when the buffered bytes
    /// end inside a message (events before that point can still be pulled; the
    /// pull that reaches the cut throws the same error). Closing while idle, or
    /// with complete messages still buffered, is fine.
    public mutating func finish() throws(HTTP1ParseError) {
        try markEndOfInput()
    }

    /// True when no bytes of an unfinished message are buffered (safe to close on
    /// idle). False while stopped at a CONNECT/Upgrade boundary.
    public var isIdle: Bool {
        if case .awaitingHead = state { return buffer.readableCount == 0 }
        return false
    }

    /// Number of bytes buffered but not yet parsed.
    public var bufferedByteCount: Int { buffer.readableCount }

    /// Removes and returns every byte buffered after the last parsed message.
    /// Meant for a message boundary, normally the CONNECT/Upgrade stop; the
    /// parser stays stopped afterwards. Taken while a head is partly buffered,
    /// that partial head goes with them.
    public mutating func takeUnparsedBytes() -> [UInt8] {
        scanner = HTTP1SectionScanner()
        return buffer.takeAll()
    }

    /// Continue parsing HTTP after an Upgrade (or CONNECT) request the server did
    /// not accept. Does nothing unless stopped at such a boundary.
    public mutating func resumeAfterDeclinedUpgrade() {
        if case .stopped = state {
            state = .awaitingHead
            scanner = HTTP1SectionScanner()
        }
    }

    /// Inside a message: a head partly buffered or a body not finished.
    var isMidMessage: Bool {
        switch state {
        case .awaitingHead: return buffer.readableCount > 0
        case .body: return true
        case .stopped: return false
        }
    }

    mutating func step() throws(HTTP1ParseError) -> HTTP1RequestEvent? {
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
                state = stopAfterMessage ? .stopped : .awaitingHead
                return .end(trailers: trailers)
            case .needMoreData:
                state = .body(decoder)
                return nil
            }
        case .stopped:
            return nil
        }
    }

    private mutating func readHead() throws(HTTP1ParseError) -> HTTPRequestHead? {
        if scanner.isAtStart {
            // RFC 9112 §2.2: ignore empty lines before the request line.
            while buffer.readableCount >= 2, buffer.byte(at: 0) == HTTP1ByteClass.cr,
                  buffer.byte(at: 1) == HTTP1ByteClass.lf {
                buffer.consume(2)
            }
            if buffer.readableCount == 1, buffer.byte(at: 0) == HTTP1ByteClass.cr { return nil }
        }
        guard let length = try scanner.scan(buffer, limit: limits.maxHeaderSectionBytes,
                                            tooLarge: .headerSectionTooLarge(limit: limits.maxHeaderSectionBytes))
        else { return nil }

        let (line, headers, framing) = try buffer.withReadableBytes {
            (p: UnsafeBufferPointer<UInt8>) throws(HTTP1ParseError)
                -> (HTTP1StartLineParser.RequestLine, HTTPHeaders, HTTP1FramingFields) in
            var lineEnd = 0
            while p[lineEnd] != HTTP1ByteClass.cr { lineEnd += 1 }
            let line = try HTTP1StartLineParser.parseRequestLine(p, end: lineEnd)
            var framing = HTTP1FramingFields()
            let headers = try HTTP1FieldBlockParser.parse(p, from: lineEnd + 2, to: length - 2, framing: &framing)
            return (line, headers, framing)
        }

        if line.version == .http1_1 && framing.hostCount == 0 { throw .missingHost }
        if framing.hostCount > 1 { throw .multipleHostHeaders }
        let bodyFraming = try Self.bodyFraming(headers: headers, framing: framing, version: line.version)

        buffer.consume(length)
        messageFraming = bodyFraming
        state = .body(HTTP1BodyDecoder(framing: bodyFraming))
        stopAfterMessage = line.isConnect || framing.hasUpgrade
        return HTTPRequestHead(method: line.method, target: line.target, version: line.version, headers: headers)
    }

    /// RFC 9112 §6.3 for requests: chunked when Transfer-Encoding is exactly
    /// `chunked`, else Content-Length, else no body.
    private static func bodyFraming(headers: HTTPHeaders, framing: HTTP1FramingFields,
                                    version: HTTPVersion) throws(HTTP1ParseError) -> HTTP1MessageFraming {
        if framing.hasTransferEncoding {
            if framing.contentLength != .absent { throw .transferEncodingWithContentLength }
            // HTTP/1.0 has no transfer codings (RFC 9112 §6.1: treat as faulty framing). Any
            // coding besides the one chunked would have to be decoded here and is refused
            // instead, as nginx does (501): forwarded verbatim, a next hop that reads the
            // list differently frames the body differently.
            let codings = headers.tokens(name: "transfer-encoding")
            if version != .http1_0, codings == ["chunked"] { return .chunked }
            let listed = headers.values(name: "transfer-encoding").joined(separator: ", ")
            let chunkedOnceAndLast = codings.last == "chunked" && codings.filter { $0 == "chunked" }.count == 1
            if version != .http1_0, chunkedOnceAndLast, codings.allSatisfy({ !$0.isEmpty }) {
                throw .transferCodingNotImplemented(listed)
            }
            throw .unsupportedTransferEncoding(listed)
        }
        switch framing.contentLength {
        case .absent: return .none
        case .value(let n): return .length(n)
        case .invalid(let text): throw .invalidContentLength(text)
        case .conflicting: throw .conflictingContentLength
        }
    }
}
