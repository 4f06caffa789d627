/// How much of each flow `CapturedSession.stream` (or `CapturedFlowIndex.flow(at:detail:)`)
/// assembles: whole (as `open` does), without what a replay's plan never looks at
/// (`ReplayPlan.stream`), which a flow's header lists mostly are, or without what a replay
/// never looks at when it sends a flow and compares it (`ReplayPlan.item`). Immutable.
public enum CapturedFlowDetail: Sendable {
    /// Everything recorded.
    case whole
    /// Everything but the header lists of plain HTTP exchanges: a request head whose
    /// method is not CONNECT and whose fields name no `Upgrade`, and the response heads
    /// (interim ones too) of such a request, have no fields (their method, target,
    /// version, status and reason are kept). Such a request is no WebSocket handshake
    /// and no extended CONNECT (`WebSocketHandshake` looks for those fields), so the
    /// flow's `kind`, `isExtendedConnectWebSocket` and `url` are those of the whole flow;
    /// a head that may be one of them keeps its fields, and so do the responses to it.
    /// The warnings are the same (a head whose list is damaged is skipped either way).
    case withoutPlainHeaders
    /// What a replay's plan reads when nothing else looks at the flows (no filter, edit
    /// or `--reflect`): `withoutPlainHeaders`, and besides, the lines the plan never
    /// looks into are taken by their first members alone (`CaptureFlowLinePrefix`),
    /// the rest of the line neither read nor checked: `upstreamConnected` (nothing of it
    /// is kept), `flowEnded` (only its time, `ended`: no timings, byte counts or error)
    /// and, of a plain request's flow, its response heads (none is kept: no `response`,
    /// `interimResponses` or `responseTime`), its `body` lines (no extent is kept: both
    /// bodies stay without extents and counts) and its `requestEnd` and `responseEnd`
    /// (only that the message ended, its body's `isComplete`: no totals, `truncated` or
    /// trailers). A line not in the encoder's exact shape goes the full way. The flow's
    /// `kind` and everything else are as `withoutPlainHeaders` reads them (none of those
    /// lines of a plain request makes a flow a WebSocket).
    ///
    /// The warnings are the same but for such a line damaged after its first members
    /// (it is applied without a warning here) and for an end line whose `capturedBytes`
    /// disagrees with its body lines (not compared here). Reading the flow again whole from an index
    /// streamed this way (`CapturedFlowIndex.flow(at:)`) is what finds it: that read
    /// fails, naming the line.
    case replayPlan
    /// Everything but the flow's `upstreamConnected` lines: a line that starts as a writer
    /// starts one (`{"t":<time>,"type":"upstreamConnected",`) is left out before it is
    /// tokenized, so `serverAddress`, `upstreamReused` and `upstreamTLS` stay unset and a
    /// damaged such line gives no warning (a line that starts so and names another `type`
    /// after, which no writer writes, is left out too; one written in another member order
    /// is read as usual). A replay sends the request and compares the answer with the
    /// recorded one; where the recording went upstream is part of neither.
    case replaySend
}
