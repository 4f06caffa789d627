import TaplineCapture

/// A flow being replayed: what was recorded of it so far (`ReplayedFlowCollector`).
/// A reference, handed out by `ReplayedFlowCollector.expect` and held by the flow's
/// `ReplayExchange`, so that each event it records changes the flow in place without
/// looking the flow up by its id.
///
/// Memory: the flow's fields, its response body's matcher and, for a WebSocket, at most
/// the collector's `limit` bytes of streamed payload a direction since the last message;
/// the flow and the matcher leave it when taken (`take`), the rest goes with the exchange.
///
/// Thread ownership: confined to the replay's loop, like its collector.
final class ReplayedFlowEntry {
    var flow: CapturedFlow
    /// The response body as matched against the source's; nil once the flow was taken.
    private(set) var responseBody: ReplayedResponseBody?
    /// Streamed WebSocket payload pieces per direction since the last message (two
    /// fields, not a list of two: an empty array allocates nothing, and most flows are not WebSockets).
    var streamedClientPayload: [UInt8] = []
    var streamedServerPayload: [UInt8] = []
    /// The collector finds the entry by its flow's id too (`ReplayedFlowCollector.expect`'s `byID`).
    let isFoundByID: Bool
    /// Not taken yet: events still change the flow.
    var isTracked: Bool { responseBody != nil }

    init(flow: CapturedFlow, responseBody: ReplayedResponseBody, isFoundByID: Bool) {
        self.flow = flow
        self.responseBody = responseBody
        self.isFoundByID = isFoundByID
    }

    /// The flow and its response body, once (nil after): the flow is moved out, leaving an
    /// empty one in its place (a copy would retain every field, and the entry's flow release them again).
    func take() -> (flow: CapturedFlow, responseBody: ReplayedResponseBody)? {
        guard let responseBody else { return nil }
        self.responseBody = nil
        var taken = CapturedFlow(id: flow.id, connection: flow.connection, kind: .http, scheme: "", authority: "",
                                 started: flow.started, sessionDirectory: "")
        swap(&taken, &flow)
        return (taken, responseBody)
    }
}
