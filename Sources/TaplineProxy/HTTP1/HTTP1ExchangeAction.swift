import TaplineFlow
import TaplineHTTPClient
import TaplineWire

/// One thing `HTTP1ProxyHandler` (the I/O shell) must do because
/// `HTTP1ExchangeStateMachine` said so: write to the client, talk to the upstream
/// leg, record, arm a deadline. Every decision is already made; carrying an action
/// out is mechanical.
///
/// The machine hands its actions to an `HTTP1ExchangeActionSink` in order, as it
/// decides them; recording is the sink's `record` and `recordBody`, so that nothing is
/// built when there is no recorder and a body chunk is not copied into an action.
enum HTTP1ExchangeAction {
    // Deadlines
    /// (Re)arms the connection's one deadline.
    case arm(HTTP1Deadline, milliseconds: Int)
    case disarm

    // Upstream leg
    /// Gets a leg for `exchange` from the shell's `UpstreamLegSource`: an idle pooled one
    /// when `reuseAllowed` and one matches, else a new connection. The answer comes back
    /// as `legOpened`/`legFailedToOpen` with this `attempt` (at once for a pooled leg).
    case openLeg(HTTP1Exchange, attempt: UInt32, reuseAllowed: Bool)
    /// The leg `legOpened` reported becomes the exchange's, paused for `pausedFor`.
    case adoptOpenedLeg(pausedFor: LegPauseReason)
    /// The leg `legOpened` reported came too late (the exchange is over): close it.
    case discardOpenedLeg
    case sendHead(LegRequestHead, endStream: Bool)
    case sendBody(ArraySlice<UInt8>)
    case sendEnd(trailers: HTTPHeaders?)
    /// Lets go of the leg in flight (its connection closed, an HTTP/2 stream reset).
    case cancelLeg
    case pauseLeg(LegPauseReason)
    case resumeLeg(LegPauseReason)

    // Client
    /// Pulls the client's parser: request events while the exchange takes them, or the next request.
    case pullClient
    /// Re-decides whether the client's socket is read (capture backed up, parser full).
    case updateClientReading
    /// Calls `captureDrained` once the recorder has drained.
    case waitForCaptureDrain
    /// An interim (1xx) head, already rewritten for the client.
    case sendInterimHead(HTTPResponseHead)
    /// The final head, already rewritten and framed for the client.
    case sendResponseHead(HTTPResponseHead)
    /// Response body bytes to the client, as one chunk when `chunked`; the leg is told they were consumed.
    case writeResponseBody(ArraySlice<UInt8>, chunked: Bool)
    /// The chunked response's last chunk, with the trailers that may be forwarded.
    case writeLastChunk(trailers: HTTPHeaders?)
    /// 101: the leg's connection and the client's are handed to a relay (a WebSocket
    /// one when `response` accepts a WebSocket upgrade), after `clientHead` is written;
    /// the shell reports `clientHandedOver`, or `protocolSwitchRefused` when the leg
    /// cannot hand its transport over.
    case switchProtocols(HTTP1Exchange, response: HTTPResponseHead, clientHead: HTTPResponseHead)
    /// The exchange ended cleanly: the leg is kept for the next request when
    /// `keepLeg` and it is poolable, else dropped; the parser may go past a declined upgrade.
    case finishExchange(keepLeg: Bool)
    /// Tapline's own answer (`HTTP1ErrorResponse`), then the connection closes after it.
    case answer(status: Int, message: String, headRequest: Bool)
    case closeClient(afterFlush: Bool)
}
