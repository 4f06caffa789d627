import TaplineCapture

/// A selected flow that will be replayed: the recording and the request made of it
/// (for a WebSocket, its opening handshake, and the script of its messages).
public struct ReplayItem {
    public let source: CapturedFlow
    public let request: ReplayRequest
    /// Set for a WebSocket flow: what its client side sends after the 101.
    public let webSocket: WebSocketReplayScript?
    /// The source's whole stored response body, when it was read with the flow
    /// (`ReplayItemReadAhead`, small bodies only); nil: it is read from the session as the
    /// replayed response arrives (`ReplayedResponseBody`).
    public let storedResponseBody: [UInt8]?

    public init(source: CapturedFlow, request: ReplayRequest, webSocket: WebSocketReplayScript? = nil,
                storedResponseBody: [UInt8]? = nil) {
        self.source = source
        self.request = request
        self.webSocket = webSocket
        self.storedResponseBody = storedResponseBody
    }
}
