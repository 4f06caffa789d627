import TaplineFlow
import TaplineHTTPClient
@testable import TaplineProxy
import TaplineWire

/// An `HTTPClientLeg` with no connection: it records what its owner asked of it, and
/// the test plays the upstream by calling the delegate itself.
///
/// Thread ownership: used on the loop of the handler under test.
final class FakeClientLeg: HTTPClientLeg {
    weak var delegate: (any HTTPClientLegDelegate)?
    let target: UpstreamTarget
    let serverAddress: String
    let tls: TLSDetails? = nil
    var reused = false
    var responseStarted = false
    var poolable = true
    var isWritable = true
    /// What the owner did, in order: `sendHead GET /x`, `sendBody 5`, `sendEnd`, `cancel`, ...
    private(set) var calls: [String] = []

    /// `stream` is the connection the owner would record (`upstreamConnected` reads
    /// its transport's address); nothing is written to it.
    init(target: UpstreamTarget, stream: any ByteStream) {
        self.target = target
        serverAddress = stream.transport.remoteAddress.description
    }

    func sendHead(_ head: LegRequestHead, endStream: Bool) {
        guard case .http1(let request) = head else { return calls.append("sendHead h2") }
        calls.append("sendHead \(request.method) \(request.target)")
    }
    func sendBody(_ bytes: ArraySlice<UInt8>) { calls.append("sendBody \(bytes.count)") }
    func sendEnd(trailers: HTTPHeaders?) { calls.append("sendEnd") }
    func pauseReading(_ reason: LegPauseReason) { calls.append("pause \(reason.rawValue)") }
    func resumeReading(_ reason: LegPauseReason) { calls.append("resume \(reason.rawValue)") }
    func consumed(_ count: Int) {}
    func cancel() { calls.append("cancel") }
    func takeOver() -> (stream: any ByteStream, unparsed: [UInt8])? { nil }
}
