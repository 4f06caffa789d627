import TaplineFlow

/// What carries out the actions of an `HTTP1ExchangeStateMachine`: the
/// `HTTP1ProxyHandler` in production (it does the I/O), a recorder in tests.
///
/// The machine calls `perform` in order while it handles one event; the sink may feed
/// the machine another event from inside `perform` (see the machine's doc for what
/// that means for the actions after it).
///
/// Thread ownership: called on the loop of the machine's owner.
protocol HTTP1ExchangeActionSink: AnyObject {
    func perform(_ action: HTTP1ExchangeAction)
    /// Records `event` for the exchange's flow (`ProxyContext.record`): an action of its
    /// own so that, with no recorder, the event is never built (the machine's decision
    /// of what is recorded and when stays the same).
    func record(_ event: @autoclosure () -> FlowEvent)
    /// Records a chunk of the flow's request or response body (`ProxyContext.recordBody`).
    func recordBody(_ flow: FlowID, isRequest: Bool, _ bytes: ArraySlice<UInt8>)
}
