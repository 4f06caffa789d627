import TaplineHTTPClient
@testable import TaplineProxy

/// An `HTTP1LegOpener` that connects nothing: each request for a leg waits in
/// `pending` until the test answers it (`complete`), so a test decides exactly when
/// "the upstream connected" relative to the client's events.
///
/// Thread ownership: used on the loop of the handler under test.
final class FakeLegOpener: HTTP1LegOpener {
    private(set) var pending: [(target: UpstreamTarget, completion: (Result<any HTTPClientLeg, UpstreamFailure>) -> Void)] = []

    func openLeg(to target: UpstreamTarget, timings: FlowTimingsBox,
                 completion: @escaping (Result<any HTTPClientLeg, UpstreamFailure>) -> Void) {
        pending.append((target, completion))
    }

    /// Answers the oldest request for a leg.
    func complete(with result: Result<any HTTPClientLeg, UpstreamFailure>) {
        pending.removeFirst().completion(result)
    }
}
