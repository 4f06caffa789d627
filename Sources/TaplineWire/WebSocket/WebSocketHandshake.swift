/// Pure helpers for the HTTP/1.1 WebSocket opening handshake (RFC 6455 §4).
public enum WebSocketHandshake {
    /// The GUID RFC 6455 appends to the key before hashing.
    public static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`: base64(SHA-1(key + GUID)).
    public static func acceptValue(forKey key: String) -> String {
        Base64.encode(SHA1.digest(Array((key.trimmingASCIIWhitespace() + guid).utf8)))
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
}

extension String {
    fileprivate func trimmingASCIIWhitespace() -> String {
        String(self[...].trimmingASCIIWhitespace())
    }
}
