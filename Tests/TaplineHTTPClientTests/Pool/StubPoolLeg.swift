import TaplineFlow
import TaplineHTTPClient
import TaplineWire

/// An `HTTPClientLeg` that only says whether it is `poolable` and reports its
/// `cancel`, for pool tests that need a leg's fate (parked, handed out, closed) and
/// nothing of its exchange. `name` tells legs apart in assertions.
///
/// Thread ownership: used on the loop of the pool under test.
final class StubPoolLeg: HTTPClientLeg {
    let name: String
    weak var delegate: (any HTTPClientLegDelegate)?
    let target = UpstreamTarget(scheme: .http, host: "origin.test", port: 8080)
    let serverAddress = "127.0.0.1:8080"
    let tls: TLSDetails? = nil
    var reused = false
    var responseStarted = false
    var poolable = true
    var isWritable = true
    private(set) var cancelled = false
    /// Called on the first `cancel`, then let go of (it may hold the pool).
    var onCancel: (() -> Void)?

    init(_ name: String) {
        self.name = name
    }

    func sendHead(_ head: LegRequestHead, endStream: Bool) {}
    func sendBody(_ bytes: ArraySlice<UInt8>) {}
    func sendEnd(trailers: HTTPHeaders?) {}
    func pauseReading(_ reason: LegPauseReason) {}
    func resumeReading(_ reason: LegPauseReason) {}
    func consumed(_ count: Int) {}
    func takeOver() -> (stream: any ByteStream, unparsed: [UInt8])? { nil }

    func cancel() {
        guard !cancelled else { return }
        cancelled = true
        poolable = false
        let callback = onCancel
        onCancel = nil
        callback?()
    }
}
