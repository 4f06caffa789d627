import TaplineWire

/// How a message body is delimited on one leg of the proxy.
///
/// Built from the parser's `HTTP1MessageFraming` (never from the framing fields
/// as received); `HTTP1HeadRewriter` writes the forwarded head's framing fields
/// from it.
public enum HTTP1BodyFraming: Equatable, Sendable {
    /// No body at all (GET without length, HEAD responses, 204, 304, 1xx).
    case none
    /// Exactly this many bytes (`Content-Length`), passed through unchanged.
    case contentLength(Int)
    /// `Transfer-Encoding: chunked`: the proxy re-chunks what it forwards.
    case chunked
    /// Until the connection closes (responses only).
    case untilClose

    /// The framing the parser decided for a message it read.
    public init(_ parsed: HTTP1MessageFraming) {
        switch parsed {
        case .none: self = .none
        case .length(let count): self = .contentLength(count)
        case .chunked: self = .chunked
        case .untilClose: self = .untilClose
        }
    }

    /// True when body bytes may follow the head (`Content-Length: 0` has none).
    public var hasBody: Bool {
        switch self {
        case .none, .contentLength(0): return false
        case .contentLength, .chunked, .untilClose: return true
        }
    }

    /// The connection may carry another request after this final response (`framing` as
    /// the response parser decided it): the end is framed, not the close; no
    /// `Connection: close`; HTTP/1.1, or HTTP/1.0 with `Connection: keep-alive` (RFC 9112 §9.3).
    /// Tokens are compared ASCII case-insensitively, in every `Connection` field.
    static func allowsReuse(after head: HTTPResponseHead, framing: HTTP1BodyFraming) -> Bool {
        guard framing != .untilClose else { return false }
        let (close, keepAlive) = connectionOptions(head.headers)
        return !close && (head.version != .http1_0 || keepAlive)
    }

    /// Whether the `Connection` fields list `close` and `keep-alive`, found in one pass over
    /// the fields, the names and tokens compared with static text (no `String` made).
    private static func connectionOptions(_ headers: HTTPHeaders) -> (close: Bool, keepAlive: Bool) {
        headers.withUnsafeFieldBytes { fields in
            var close = false, keepAlive = false
            for index in 0..<fields.count where HTTPHeaders.bytesEqualIgnoringCase(fields.name(index), "connection") {
                HTTPHeaders.forEachToken(in: fields.value(index)) { token in
                    let token = UnsafeBufferPointer(rebasing: token)
                    if HTTPHeaders.bytesEqualIgnoringCase(token, "close") {
                        close = true
                    } else if HTTPHeaders.bytesEqualIgnoringCase(token, "keep-alive") {
                        keepAlive = true
                    }
                    return true
                }
            }
            return (close, keepAlive)
        }
    }
}
