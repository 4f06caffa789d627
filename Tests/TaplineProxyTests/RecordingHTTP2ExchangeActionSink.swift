import TaplineFlow
@testable import TaplineProxy

/// An `HTTP2ExchangeActionSink` that keeps what the machine handed it, in order.
///
/// Thread ownership: the test's thread.
final class RecordingHTTP2ExchangeActionSink: HTTP2ExchangeActionSink {
    enum Entry {
        case action(HTTP2ExchangeAction)
        case record(FlowEvent)
        case recordBody(FlowID, isRequest: Bool, ArraySlice<UInt8>)
    }

    var entries: [Entry] = []
    /// Run inside `perform` after the action is kept: a test's stand-in for the shell
    /// feeding the machine an event while it carries an action out.
    var onPerform: ((HTTP2ExchangeAction) -> Void)?

    func perform(_ action: HTTP2ExchangeAction) {
        entries.append(.action(action))
        onPerform?(action)
    }

    func record(_ event: @autoclosure () -> FlowEvent) {
        entries.append(.record(event()))
    }

    func recordBody(_ flow: FlowID, isRequest: Bool, _ bytes: ArraySlice<UInt8>) {
        entries.append(.recordBody(flow, isRequest: isRequest, bytes))
    }
}
