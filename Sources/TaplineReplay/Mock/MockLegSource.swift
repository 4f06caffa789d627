import TaplineHTTPClient
import TaplineNet

/// The `UpstreamLegSource` of one client connection of `tapline mock`: its legs are
/// `RecordedResponseLeg`s, which answer from `responder`. A released leg is kept for the
/// connection's next request (the capture records it as reused, as a keep-alive
/// upstream would be); an unmatched request with `--fallback` gets a real leg from
/// `fallbackLegs`, which this source closes with its own.
///
/// Thread ownership: confined to `loop`; owned by one handler, closed when its client
/// connection ends (`closeAll`).
final class MockLegSource: UpstreamLegSource {
    private let loop: EventLoop
    private let responder: MockResponder
    private let fallbackLegs: PooledUpstreamLegSource?
    private var idle: [RecordedResponseLeg] = []
    private var closed = false

    init(loop: EventLoop, responder: MockResponder, fallbackLegs: PooledUpstreamLegSource?) {
        self.loop = loop
        self.responder = responder
        self.fallbackLegs = fallbackLegs
    }

    func readyLeg(for request: UpstreamLegRequest) -> (any HTTPClientLeg)? {
        guard let index = idle.firstIndex(where: { $0.target == request.target }) else { return nil }
        let leg = idle.remove(at: index)
        leg.timings = request.timings
        return leg
    }

    func openLeg(for request: UpstreamLegRequest,
                 completion: @escaping (Result<any HTTPClientLeg, UpstreamFailure>) -> Void) {
        let leg = RecordedResponseLeg(loop: loop, target: request.target, responder: responder, fallbackLegs: fallbackLegs)
        leg.timings = request.timings
        completion(.success(leg))
    }

    func release(_ leg: any HTTPClientLeg) {
        leg.delegate = nil
        guard !closed, leg.poolable, let recorded = leg as? RecordedResponseLeg else { return leg.cancel() }
        idle.append(recorded)
    }

    func discard(_ leg: any HTTPClientLeg) {
        leg.delegate = nil
        leg.cancel()
    }

    func closeAll() {
        closed = true
        for leg in idle { leg.cancel() }
        idle = []
        fallbackLegs?.closeAll()
    }
}
