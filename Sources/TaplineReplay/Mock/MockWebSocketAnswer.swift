import TaplineCapture
import TaplineWire

/// How `tapline mock` accepts a WebSocket opening (an HTTP/1.1 Upgrade, or an RFC 8441
/// extended CONNECT, which reaches the mock as one) that matched a recorded WebSocket
/// flow: the 101 it answers and what the conversation after it plays. Pure; a value type.
///
/// The 101: `Sec-WebSocket-Accept` for the live key (RFC 6455 §4.2.2); the recorded
/// `Sec-WebSocket-Protocol` when the client offers it; the recorded permessage-deflate
/// parameters when the client offers permessage-deflate (less `client_max_window_bits`
/// when its offer has none, and the server window no larger than the client allows,
/// RFC 7692 §7.1.2). The HTTP/2 handler turns it into `:status 200` for an h2 client.
struct MockWebSocketAnswer {
    var head: HTTPResponseHead
    /// The recorded flow whose conversation is played.
    var flow: CapturedFlow
    /// `session#flow`, for the live log.
    var name: String
    /// The permessage-deflate parameters accepted, nil when none.
    var deflate: PerMessageDeflateParameters?
    var pace: MockLatency
    var strict: Bool
    /// The wait before the 101 (`--latency`).
    var delayMilliseconds: Int

    /// nil when the request has no valid `Sec-WebSocket-Key` (the mock answers 400).
    init?(recording: MockRecording, request: MockRequest, options: MockResponder.Options, delayMilliseconds: Int) {
        let key = request.headerValue("Sec-WebSocket-Key")
        guard WebSocketHandshake.isValidKey(key) else { return nil }
        var headers = HTTPHeaders([("Upgrade", "websocket"), ("Connection", "Upgrade"),
                                   ("Sec-WebSocket-Accept", WebSocketHandshake.acceptValue(forKey: key))])
        let recordedHeaders = recording.flow.response?.headers ?? HTTPHeaders()
        if let subprotocol = recordedHeaders.first(name: "Sec-WebSocket-Protocol"),
           request.headers.tokens(name: "Sec-WebSocket-Protocol").contains(subprotocol.lowercased()) {
            headers.add(name: "Sec-WebSocket-Protocol", value: subprotocol)
        }
        deflate = Self.acceptedDeflate(recorded: recordedHeaders, offered: request.headers)
        if let deflate { headers.add(name: "Sec-WebSocket-Extensions", value: deflate.extensionElement.headerValue) }
        head = HTTPResponseHead(status: 101, reason: HTTPStatusText.reason(101), headers: headers)
        flow = recording.flow
        name = recording.name
        pace = options.webSocketPace
        strict = options.strictWebSocket
        self.delayMilliseconds = delayMilliseconds
    }

    /// The recorded permessage-deflate parameters, fitted to the client's offer; nil when
    /// either side has none (or either cannot be read).
    static func acceptedDeflate(recorded: HTTPHeaders, offered: HTTPHeaders) -> PerMessageDeflateParameters? {
        guard var accepted = try? PerMessageDeflateParameters.negotiated(responseHeaders: recorded),
              let offers = try? WebSocketExtension.parse(offered.values(name: "Sec-WebSocket-Extensions")),
              let offer = offers.lazy.filter({ $0.name == PerMessageDeflateParameters.extensionName })
                  .compactMap({ try? PerMessageDeflateParameters($0, isResponse: false) }).first
        else { return nil }
        if !offer.clientMaxWindowBitsOffered {
            accepted.clientMaxWindowBits = nil
            accepted.clientMaxWindowBitsOffered = false
        }
        if let limit = offer.serverMaxWindowBits {
            accepted.serverMaxWindowBits = min(accepted.serverWindowBits, limit)
        }
        return accepted
    }
}
