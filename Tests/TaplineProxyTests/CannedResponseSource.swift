import TaplineHTTPClient
import TaplineNet
import TaplineWire

/// An `UpstreamLegSource` with no network: it hands out `CannedResponseLeg`s, one
/// kept leg again when it was released poolable (as a pool would), so a test sees a
/// second request on the same client connection reuse it. What a mock server plugs
/// into a handler.
///
/// Thread ownership: confined to `loop`.
final class CannedResponseSource: UpstreamLegSource {
    private let loop: EventLoop
    private let head: HTTPResponseHead
    private let body: [UInt8]
    private var idle: CannedResponseLeg?
    /// Every leg handed out, new ones in order.
    private(set) var legsMade: [CannedResponseLeg] = []
    private(set) var closedAll = false

    init(loop: EventLoop, head: HTTPResponseHead, body: [UInt8]) {
        self.loop = loop
        self.head = head
        self.body = body
    }

    func readyLeg(for request: UpstreamLegRequest) -> (any HTTPClientLeg)? {
        guard let idle, idle.target == request.target else { return nil }
        self.idle = nil
        return idle
    }

    /// A new leg, at once: a mock has nothing to connect to.
    func openLeg(for request: UpstreamLegRequest,
                 completion: @escaping (Result<any HTTPClientLeg, UpstreamFailure>) -> Void) {
        let leg = CannedResponseLeg(loop: loop, target: request.target, head: head, body: body)
        legsMade.append(leg)
        completion(.success(leg))
    }

    func release(_ leg: any HTTPClientLeg) {
        guard leg.poolable, !closedAll, let canned = leg as? CannedResponseLeg else { return leg.cancel() }
        idle = canned
    }

    func discard(_ leg: any HTTPClientLeg) {
        leg.cancel()
    }

    func closeAll() {
        closedAll = true
        idle?.cancel()
        idle = nil
    }
}
