@testable import TaplineGRPCReflection
import TaplineHTTPClient
import TaplineNet

/// An `UpstreamLegSource` whose legs are `ScriptedReflectionLeg`s: no sockets. Counts
/// the legs it opened (one per reflection call) and the ones given back.
///
/// Thread ownership: confined to `loop`.
final class ScriptedReflectionLegSource: UpstreamLegSource {
    private let loop: EventLoop
    private let servedVersions: Set<ServerReflectionVersion>
    private(set) var opened = 0
    private(set) var returned = 0

    init(loop: EventLoop, servedVersions: Set<ServerReflectionVersion>) {
        self.loop = loop
        self.servedVersions = servedVersions
    }

    func readyLeg(for request: UpstreamLegRequest) -> (any HTTPClientLeg)? { nil }

    func openLeg(for request: UpstreamLegRequest, completion: @escaping (Result<any HTTPClientLeg, UpstreamFailure>) -> Void) {
        opened += 1
        completion(.success(ScriptedReflectionLeg(target: request.target, loop: loop, servedVersions: servedVersions)))
    }

    func release(_ leg: any HTTPClientLeg) { returned += 1 }
    func discard(_ leg: any HTTPClientLeg) { returned += 1 }
    func closeAll() {}
}
