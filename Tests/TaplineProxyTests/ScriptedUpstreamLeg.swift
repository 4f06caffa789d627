import TaplineFlow
import TaplineHTTPClient
import TaplineWire

/// An `HTTPClientLeg` with no socket whose upstream the test plays: it records what its
/// owner sent (heads, body bytes, consumed counts, cancel), and the test calls its
/// delegate itself; `onConsumed` lets a test deliver events inside the owner's call, as
/// `HTTP2ClientLeg` does when it pumps its connection there.
///
/// Thread ownership: used on the test's thread only.
final class ScriptedUpstreamLeg: HTTPClientLeg {
    weak var delegate: (any HTTPClientLegDelegate)?
    let target = UpstreamTarget(scheme: .http, host: "127.0.0.1", port: 50051)
    let serverAddress = "127.0.0.1:50051"
    let tls: TLSDetails? = nil
    var reused = false
    var responseStarted = false
    var poolable = true
    var isWritable = true
    private(set) var heads: [LegRequestHead] = []
    private(set) var body: [UInt8] = []
    private(set) var ended = false
    private(set) var consumedBytes = 0
    private(set) var cancelled = false
    var onConsumed: (() -> Void)?

    func sendHead(_ head: LegRequestHead, endStream: Bool) {
        heads.append(head)
        ended = endStream
    }
    func sendBody(_ bytes: ArraySlice<UInt8>) { body += bytes }
    func sendEnd(trailers: HTTPHeaders?) { ended = true }
    func pauseReading(_ reason: LegPauseReason) {}
    func resumeReading(_ reason: LegPauseReason) {}
    func consumed(_ count: Int) {
        consumedBytes += count
        onConsumed?()
    }
    func cancel() { cancelled = true }
    func takeOver() -> (stream: any ByteStream, unparsed: [UInt8])? { nil }
}
