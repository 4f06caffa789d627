@testable import TaplineHTTPClient
import TaplineFlow
import TaplineWire

/// An `HTTPClientLegDelegate` that writes each event down as a line, for tests that
/// check exactly which events a leg delivered, in order (with an `HTTP2StreamLeg`'s
/// own events: framed request bytes, how its stream ended).
final class RecordingLegDelegate: HTTP2StreamLegDelegate {
    private(set) var events: [String] = []
    private(set) var heads: [LegResponseHead] = []
    private(set) var failure: FlowError?
    /// Runs on each body event (a test pauses the leg there, as an owner whose client filled up does).
    var onBody: ((any HTTPClientLeg) -> Void)?
    /// Runs on each head event (a test takes the connection over there, as an owner does on a 101).
    var onHead: ((any HTTPClientLeg) -> Void)?
    /// Runs on each end event (a test lets go of the leg there, as an owner does when its response ended).
    var onEnd: ((any HTTPClientLeg) -> Void)?

    func takeEvents() -> [String] {
        defer { events = [] }
        return events
    }

    func legResponseStarted(_ leg: any HTTPClientLeg) { events.append("started") }

    func leg(_ leg: any HTTPClientLeg, receivedHead head: LegResponseHead) {
        heads.append(head)
        events.append("head \(head.received.status) \(head.framing)")
        onHead?(leg)
    }

    func leg(_ leg: any HTTPClientLeg, receivedBody bytes: ArraySlice<UInt8>) {
        events.append("body \(String(decoding: bytes, as: UTF8.self))")
        onBody?(leg)
    }

    func leg(_ leg: any HTTPClientLeg, receivedEnd trailers: HTTPHeaders?) {
        let fields = trailers.map { $0.fields.map { "\($0.name): \($0.value)" }.joined(separator: ", ") } ?? "-"
        events.append("end \(fields)")
        onEnd?(leg)
    }

    func leg(_ leg: any HTTPClientLeg, failed error: FlowError) {
        failure = error
        events.append("failed \(error.kind.rawValue)")
    }

    func legBecameWritable(_ leg: any HTTPClientLeg) { events.append("writable") }

    func legFinishedInput(_ leg: any HTTPClientLeg) { events.append("input done") }

    func leg(_ leg: HTTP2StreamLeg, framedRequestBody count: Int) { events.append("framed \(count)") }

    func leg(_ leg: HTTP2StreamLeg, streamEnded end: HTTP2StreamEnd) {
        switch end {
        case .resetByUpstream(let code): events.append("reset by upstream \(code.name)")
        case .closed(let code): events.append("closed \(code.name)")
        }
    }
}
