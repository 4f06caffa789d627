import TaplineHTTP2
import TaplineHTTPClient
import TaplineWire

/// One thing the I/O shell (`HTTP2ProxyHandler`, through the stream's
/// `HTTP2StreamExchange`) must do because an `HTTP2ExchangeStateMachine` said so:
/// write to the client's stream, talk to the upstream leg, arm a deadline, hand the
/// stream to the WebSocket bridge. Every decision is already made; carrying an action
/// out is mechanical (the shell only translates it to its session, leg or bridge).
///
/// The machine hands its actions to an `HTTP2ExchangeActionSink` in order, as it
/// decides them; recording is the sink's `record` and `recordBody`.
enum HTTP2ExchangeAction {
    // Upstream leg

    /// Gets a leg for the exchange: the shell's leg acquisition (the shared HTTP/2
    /// upstream, or an HTTP/1.1 connection: pooled, or a new one). `retry`: the
    /// request is sent once more after a stale keep-alive connection, on a new
    /// HTTP/1.1 connection. The answer comes back as `legOpened`/`legFailedToOpen`
    /// with this `attempt`.
    case openLeg(attempt: UInt32, retry: Bool)
    /// The leg `legOpened` reported came too late (the exchange is over): let go of it.
    case discardOpenedLeg
    case sendHead(LegRequestHead, endStream: Bool)
    case sendBody([UInt8])
    case sendEnd(trailers: HTTPHeaders?)
    /// Gives the leg up: an HTTP/2 stream still open is reset with the code, an HTTP/1.1
    /// connection closed; an exchange still waiting for its leg stops waiting. Its
    /// response deadline goes with it.
    case cancelLeg(HTTP2ErrorCode)
    /// The HTTP/1.1 leg's response is complete: its connection goes back to the pool
    /// when it can carry another request, else it closes once flushed.
    case releaseLeg
    case pauseLeg(LegPauseReason)
    case resumeLeg(LegPauseReason)
    /// `count` response body bytes went on to the client: the HTTP/2 stream leg gets
    /// that window credit back.
    case legConsumed(Int)
    /// Starts the response timeout (the request just went upstream).
    case armResponseDeadline
    case disarmResponseDeadline

    // Client stream

    /// Gives the client `count` bytes of request window back (`HTTP2Session.consume`).
    case creditClient(Int)
    /// An interim (1xx) head, already in HTTP/2 form.
    case sendInformational(HTTPHeaders)
    /// The final head, already in HTTP/2 form; the shell reports `responseHeadUndeliverable` if the session refuses it.
    case sendResponseHead(HTTPHeaders, endStream: Bool)
    case sendData([UInt8])
    /// Ends the client's stream, with HTTP/2 trailers when there are any.
    case finish(trailers: HTTPHeaders?)
    /// Tapline's own answer: `status` with `message` as a text body (head only for a HEAD request).
    case answer(status: Int, message: String, headRequest: Bool)
    /// Resets the client's stream with `code`, at once or after the DATA queued on it.
    case resetClient(HTTP2ErrorCode, afterQueuedData: Bool)
    /// The response is complete while the client still uploads: it is asked to stop
    /// (RST_STREAM NO_ERROR after our END_STREAM, RFC 9113 §8.1).
    case stopPeerAfterOurEnd

    // WebSocket over HTTP/2 (RFC 8441)

    /// The request is an extended CONNECT for a WebSocket: the stream gets its `HTTP2WebSocketBridge`.
    case prepareWebSocketBridge
    /// The upstream accepted the WebSocket: the client gets `clientFields` (the shell
    /// reports `responseHeadUndeliverable` if it cannot) and the bridge's relay takes
    /// both sides and the flow over; `handshake` is the upstream's answer as recorded.
    case startWebSocketRelay(clientFields: HTTPHeaders, handshake: HTTPResponseHead)
    /// The client reset a stream whose WebSocket is relaying: the relay hears it as its client side closing.
    case passClientResetToWebSocketRelay(HTTP2ErrorCode)
    /// The upstream refused the upgrade with an ordinary response, now complete: the client stream ends after it.
    case webSocketUpgradeRefused
}
