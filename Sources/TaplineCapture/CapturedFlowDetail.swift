/// How much of each flow `CapturedSession.stream` assembles: whole (as `open` does), or
/// without what a replay's plan never looks at (`ReplayPlan.stream`), which a flow's
/// header lists mostly are. Immutable.
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
}
