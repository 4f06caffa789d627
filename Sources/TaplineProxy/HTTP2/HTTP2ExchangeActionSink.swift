import TaplineFlow

/// What carries out the actions of an `HTTP2ExchangeStateMachine`: the stream's
/// `HTTP2StreamExchange` in production (it hands them to its `HTTP2ProxyHandler`,
/// which does the I/O), a recorder in tests.
///
/// The machine calls `perform` in order while it handles one event; the sink may feed
/// the machine another event from inside `perform` (a leg failing inside `sendHead`, a
/// resumed leg delivering what it held, the session refusing a head): the machine
/// settles its state before each action that may do so.
///
/// Thread ownership: called on the loop of the machine's handler.
protocol HTTP2ExchangeActionSink: AnyObject {
    func perform(_ action: HTTP2ExchangeAction)
    /// Records `event` for the exchange's flow (`ProxyContext.record`): an autoclosure so
    /// that, with no recorder, the event is never built.
    func record(_ event: @autoclosure () -> FlowEvent)
    /// Records a chunk of the flow's request or response body (`ProxyContext.recordBody`).
    func recordBody(_ flow: FlowID, isRequest: Bool, _ bytes: ArraySlice<UInt8>)
}
