@testable import TaplineProxy

/// A stream as `HTTP2ConnectionDeadlines` sees it, for tests: an id and a deadline.
final class FakeResponseDeadlineHolder: HTTP2ResponseDeadlineHolder {
    let clientStream: Int32
    var responseDeadline: UInt64?

    init(stream: Int32) { clientStream = stream }
}
