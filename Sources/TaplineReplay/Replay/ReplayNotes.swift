import TaplineFlow

/// The words of the notes a replay gives about flows sent otherwise than recorded
/// (`ReplayPlan.notes` before sending, `ReplayRunner.notes` while sending), one place
/// so both read alike. Pure.
enum ReplayNotes {
    /// An RFC 8441 WebSocket (recorded over HTTP/2) replayed as an HTTP/1.1 Upgrade, and why.
    static func webSocketOverHTTP1(flow: FlowID, because reason: String) -> String {
        "flow \(flow): recorded as a WebSocket over HTTP/2 (RFC 8441 extended CONNECT); replayed as an HTTP/1.1 Upgrade (\(reason))"
    }
}
