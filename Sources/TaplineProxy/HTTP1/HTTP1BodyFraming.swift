import TaplineWire

/// How a message body is delimited on one leg of the proxy.
enum HTTP1BodyFraming: Equatable {
    /// No body at all (GET without length, HEAD responses, 204, 304, 1xx).
    case none
    /// `Content-Length` bytes, passed through unchanged.
    case contentLength
    /// `Transfer-Encoding: chunked`: the proxy re-chunks what it forwards.
    case chunked
    /// Until the connection closes (responses only).
    case untilClose

    /// The framing of a request as received (the parser has already rejected ambiguous ones).
    static func of(request head: HTTPRequestHead) -> HTTP1BodyFraming {
        if head.headers.contains(name: "Transfer-Encoding") { return .chunked }
        if let length = head.headers.first(name: "Content-Length"), length != "0" { return .contentLength }
        return .none
    }

    /// The framing of a final response as received, given the request method.
    static func of(response head: HTTPResponseHead, requestMethod: String) -> HTTP1BodyFraming {
        if requestMethod == "HEAD" || head.status == 204 || head.status == 304 || head.status < 200 {
            return .none
        }
        if head.headers.contains(name: "Transfer-Encoding") {
            return head.headers.tokens(name: "Transfer-Encoding").last == "chunked" ? .chunked : .untilClose
        }
        if head.headers.contains(name: "Content-Length") { return .contentLength }
        return .untilClose
    }

    /// The connection may carry another request after this final response (`framing` as
    /// returned by `of(response:requestMethod:)`): the end is framed, not the close; no
    /// `Connection: close`; HTTP/1.1, or HTTP/1.0 with `Connection: keep-alive` (RFC 9112 §9.3).
    static func allowsReuse(after head: HTTPResponseHead, framing: HTTP1BodyFraming) -> Bool {
        guard framing != .untilClose, !head.headers.containsToken("close", inField: "Connection") else { return false }
        return head.version != .http1_0 || head.headers.containsToken("keep-alive", inField: "Connection")
    }
}
