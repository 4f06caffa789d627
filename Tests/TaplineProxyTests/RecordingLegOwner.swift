import TaplineFlow
import TaplineHTTPClient
import TaplineWire

/// An `HTTPClientLegDelegate` that writes down what its leg told it, in order: `started`,
/// `head 200 <content-type>`, `body N`, `end`, `failed`, `finished` (legFinishedInput);
/// the body bytes and the last head are kept.
///
/// Thread ownership: used on the test's thread only.
final class RecordingLegOwner: HTTPClientLegDelegate {
    private(set) var log: [String] = []
    private(set) var body: [UInt8] = []
    private(set) var head: LegResponseHead?

    func legResponseStarted(_ leg: any HTTPClientLeg) { log.append("started") }
    func leg(_ leg: any HTTPClientLeg, receivedHead head: LegResponseHead) {
        self.head = head
        log.append("head \(head.received.status) \(head.received.headers.first(name: "content-type") ?? "-")")
    }
    func leg(_ leg: any HTTPClientLeg, receivedBody bytes: ArraySlice<UInt8>) {
        body += bytes
        log.append("body \(bytes.count)")
    }
    func leg(_ leg: any HTTPClientLeg, receivedEnd trailers: HTTPHeaders?) { log.append("end") }
    func leg(_ leg: any HTTPClientLeg, failed error: FlowError) { log.append("failed") }
    func legBecameWritable(_ leg: any HTTPClientLeg) { log.append("writable") }
    func legFinishedInput(_ leg: any HTTPClientLeg) { log.append("finished") }
}
