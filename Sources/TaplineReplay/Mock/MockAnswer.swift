import TaplineHTTPClient

/// What `MockResponder` tells a `RecordedResponseLeg` to do with one request. A value type.
enum MockAnswer {
    /// Answer with this (a recorded response, or a generated 404/502/426).
    case respond(MockResponse)
    /// Accept the WebSocket and play the recorded conversation.
    case webSocket(MockWebSocketAnswer)
    /// Send the request on to this server (`--fallback`).
    case fallback(UpstreamTarget)
}
