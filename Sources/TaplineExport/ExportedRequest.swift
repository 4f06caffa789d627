import TaplineCapture

/// Which captured flows HAR and Postman export as requests, and the method a
/// WebSocket handshake is exported with. Pure.
///
/// A plain CONNECT (a tunnel's) is not an exchange and is left out. An HTTP/2
/// extended CONNECT for WebSocket (RFC 8441) is a WebSocket handshake with a
/// path, exported like an HTTP/1.1 one: URL `wss://host/path`, its messages,
/// and in Postman the `GET` a client replays it with (HAR keeps the request as
/// captured: `CONNECT`, `HTTP/2`, `:protocol websocket`).
enum ExportedRequest {
    /// An HTTP or WebSocket flow with a request that is not a tunnel's CONNECT.
    static func isExported(_ flow: CapturedFlow) -> Bool {
        guard flow.kind == .http || flow.kind == .websocket, let request = flow.request else { return false }
        return request.method != "CONNECT" || (flow.kind == .websocket && flow.isExtendedConnectWebSocket)
    }

    /// The method to replay the request with: `GET` for an extended CONNECT
    /// WebSocket (Postman opens WebSockets with an HTTP/1.1 GET), else as captured.
    static func replayMethod(_ flow: CapturedFlow) -> String {
        flow.isExtendedConnectWebSocket ? "GET" : flow.request?.method ?? "GET"
    }

    /// How the WebSocket was opened, for the `_tapline` extension: `h2` for an
    /// extended CONNECT over HTTP/2, nil for an HTTP/1.1 Upgrade.
    static func webSocketHandshakeProtocol(_ flow: CapturedFlow) -> String? {
        flow.isExtendedConnectWebSocket ? "h2" : nil
    }
}
