import TaplineWire

/// The plain-text responses the proxy itself gives (400, 408, 502, 504):
/// a status, a one-line reason naming Tapline, and `Connection: close`. The answer
/// to a HEAD request is the head alone (RFC 9110 §9.3.2), its Content-Length still
/// that of the reason.
enum HTTP1ErrorResponse {
    static func bytes(status: Int, message: String, headRequest: Bool = false) -> [UInt8] {
        let body = Array("Tapline: \(message)\n".utf8)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: String(body.count))
        headers.add(name: "Connection", value: "close")
        headers.add(name: "X-Tapline-Error", value: "1")
        let head = HTTPResponseHead(version: .http1_1, status: status, reason: HTTPStatusText.reason(status), headers: headers)
        return HTTP1Serializer.responseHead(head) + (headRequest ? [] : body)
    }
}
