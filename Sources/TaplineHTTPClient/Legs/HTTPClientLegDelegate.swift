import TaplineFlow
import TaplineWire

/// The owner of an `HTTPClientLeg`: receives the response to the request in
/// flight, at message level.
///
/// Order for one request: `legResponseStarted` once, then heads (any interim 1xx,
/// then the final one), body bytes, `receivedEnd`; or `failed` at any point, after
/// which nothing more comes.
///
/// End of input: `legFinishedInput` follows every batch of response events (flush what
/// they queued, check the capture), once, after the batch's last event. A batch is what
/// one read of the upstream (or its close) delivered, or what the leg delivered inside one
/// of the owner's own calls (`sendHead`, `sendBody`, `sendEnd`, `resumeReading`, an HTTP/2
/// leg's `flushConcurrentStreams`: events waiting in the leg, or read by its pump): then
/// it comes just before the outermost such call returns. It goes to the owner that heard
/// the batch's events, also when one of them ended the response and the owner released
/// (or cancelled) the leg on it; an owner must expect it after its last event. A batch
/// without events (an idle leg's read) is not followed by it.
///
/// Thread ownership: called on the leg's loop.
public protocol HTTPClientLegDelegate: AnyObject {
    /// The first byte of the response arrived (stop a response timeout, stamp the time).
    func legResponseStarted(_ leg: any HTTPClientLeg)
    /// An interim (1xx) or final head, as the upstream sent it.
    func leg(_ leg: any HTTPClientLeg, receivedHead head: LegResponseHead)
    func leg(_ leg: any HTTPClientLeg, receivedBody bytes: ArraySlice<UInt8>)
    /// The response ended, with its trailers as received.
    func leg(_ leg: any HTTPClientLeg, receivedEnd trailers: HTTPHeaders?)
    /// The response cannot be completed (the connection closed, a bad response, a
    /// reset stream); `error` says why in words a user can act on. Whether the request
    /// may be sent again is the owner's call (`StaleConnectionRetryRule`).
    func leg(_ leg: any HTTPClientLeg, failed error: FlowError)
    /// The upstream takes request bytes again.
    func legBecameWritable(_ leg: any HTTPClientLeg)
    /// The events of one batch were delivered (see the type's doc).
    func legFinishedInput(_ leg: any HTTPClientLeg)
}
