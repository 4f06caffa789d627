/// Pure helpers for the WebSocket opening handshake: HTTP/1.1 Upgrade (RFC 6455 §4)
/// and HTTP/2 extended CONNECT (RFC 8441) as captured.
public enum WebSocketHandshake {
    /// The GUID RFC 6455 appends to the key before hashing.
    public static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`: base64(SHA-1(key + GUID)).
    public static func acceptValue(forKey key: String) -> String {
        Base64.encode(SHA1.digest(Array((key.trimmingASCIIWhitespace() + guid).utf8)))
    }

    /// A fresh `Sec-WebSocket-Key`: base64 of 16 random bytes (RFC 6455 §4.1).
    public static func newKey(using generator: inout some RandomNumberGenerator) -> String {
        Base64.encode((0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    /// A fresh `Sec-WebSocket-Key` from the system's generator.
    public static func newKey() -> String {
        var generator = SystemRandomNumberGenerator()
        return newKey(using: &generator)
    }

    /// A valid `Sec-WebSocket-Key`: base64 of 16 bytes.
    public static func isValidKey(_ key: String) -> Bool {
        Base64.decode(key.trimmingASCIIWhitespace())?.count == 16
    }

    /// The request asks to upgrade to WebSocket: `Upgrade` names `websocket` and
    /// `Connection` lists `upgrade`.
    public static func isUpgradeRequest(_ head: HTTPRequestHead) -> Bool {
        head.headers.tokens(name: "Upgrade").contains("websocket")
            && head.headers.tokens(name: "Connection").contains("upgrade")
    }

    /// The response switches to WebSocket: 101 with `Upgrade: websocket`.
    public static func isUpgradeResponse(_ head: HTTPResponseHead) -> Bool {
        head.status == 101 && head.headers.tokens(name: "Upgrade").contains("websocket")
    }

    /// RFC 8441: an HTTP/2 extended CONNECT for WebSocket, as captured (`CONNECT` with
    /// the `:protocol websocket` pseudo-header among the fields).
    public static func isExtendedConnectRequest(_ head: HTTPRequestHead) -> Bool {
        head.method == "CONNECT" && head.headers.first(name: ":protocol")?.lowercased() == "websocket"
    }

    /// The final status a client was given when `status` was recorded: the same,
    /// except that an extended CONNECT (`isExtendedConnectRequest`) bridged to an
    /// HTTP/1.1 upstream records the upstream's 101 and its client got `:status 200`.
    public static func clientStatus(recordedStatus status: Int, extendedConnect: Bool) -> Int {
        status == 101 && extendedConnect ? 200 : status
    }

    /// The handshake opened a WebSocket: a 101 to an HTTP/1.1 Upgrade, or, for an
    /// extended CONNECT, a 2xx from an HTTP/2 upstream or the 101 of the HTTP/1.1
    /// upstream it was bridged to.
    public static func opensWebSocket(request: HTTPRequestHead, response: HTTPResponseHead) -> Bool {
        if isExtendedConnectRequest(request) {
            return isUpgradeResponse(response) || (response.status >= 200 && response.status < 300)
        }
        return isUpgradeResponse(response) && isUpgradeRequest(request)  // the status first: most responses are not 101
    }
}

extension String {
    fileprivate func trimmingASCIIWhitespace() -> String {
        String(self[...].trimmingASCIIWhitespace())
    }
}
