import TaplineFlow
@testable import TaplineProxy

/// An `HTTP1ExchangeActionSink` that keeps what the machine handed it, in order.
///
/// Thread ownership: the test's thread.
final class RecordingExchangeActionSink: HTTP1ExchangeActionSink {
    enum Entry {
        case action(HTTP1ExchangeAction)
        case record(FlowEvent)
        case recordBody(FlowID, isRequest: Bool, ArraySlice<UInt8>)
    }

    var entries: [Entry] = []

    func perform(_ action: HTTP1ExchangeAction) {
        entries.append(.action(action))
    }

    func record(_ event: @autoclosure () -> FlowEvent) {
        entries.append(.record(event()))
    }

    func recordBody(_ flow: FlowID, isRequest: Bool, _ bytes: ArraySlice<UInt8>) {
        entries.append(.recordBody(flow, isRequest: isRequest, bytes))
    }
}
