import TaplineHTTPClient
@testable import TaplineProxy

/// An `UpstreamLegSource` that connects nothing and keeps nothing ready: each request
/// for a new leg waits in `pending` until the test answers it (`complete`), so a test
/// decides exactly when "the upstream connected" relative to the client's events. Legs
/// given back are cancelled (nothing is pooled) and listed in `returned`.
///
/// Thread ownership: used on the loop of the handler under test.
final class FakeLegSource: UpstreamLegSource {
    private(set) var pending: [(request: UpstreamLegRequest, completion: (Result<any HTTPClientLeg, UpstreamFailure>) -> Void)] = []
    /// `release` or `discard`, in the order the owner gave legs back.
    private(set) var returned: [String] = []

    func readyLeg(for request: UpstreamLegRequest) -> (any HTTPClientLeg)? { nil }

    func openLeg(for request: UpstreamLegRequest,
                 completion: @escaping (Result<any HTTPClientLeg, UpstreamFailure>) -> Void) {
        pending.append((request, completion))
    }

    /// Answers the oldest request for a leg.
    func complete(with result: Result<any HTTPClientLeg, UpstreamFailure>) {
        pending.removeFirst().completion(result)
    }

    func release(_ leg: any HTTPClientLeg) {
        returned.append("release")
        leg.cancel()
    }

    func discard(_ leg: any HTTPClientLeg) {
        returned.append("discard")
        leg.cancel()
    }

    func closeAll() {}
}
