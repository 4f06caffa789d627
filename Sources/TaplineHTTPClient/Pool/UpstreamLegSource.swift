/// Where an owner of exchanges (a proxy handler, replay) gets the upstream side of
/// each one, and gives it back: the server-side seam. `PooledUpstreamLegSource` is
/// the one that connects to real servers and reuses their connections; a mock server
/// is another source whose legs answer from a recording, with no socket under them
/// (an `HTTPClientLeg` needs none: see its `serverAddress`, `tls`).
///
/// Contract: every leg a source hands out goes back to it once, through `release`
/// (its response is over: it may carry another request) or `discard` (given up:
/// cancelled, failed, or its transport taken over after a 101). The owner clears the
/// leg's `delegate`, or the source does, before it is handed to anyone else.
///
/// Thread ownership: confined to one event loop; `completion` runs on it, once,
/// possibly before `leg(for:)` returns (a pooled leg is handed out at once).
public protocol UpstreamLegSource: AnyObject {
    /// A leg that can carry `request` now: an idle pooled one when `request.mayReuse`
    /// allows and one matches its key, else one over a new connection, or the
    /// `UpstreamFailure` that says why there is none.
    func leg(for request: UpstreamLegRequest,
             completion: @escaping (Result<any HTTPClientLeg, UpstreamFailure>) -> Void)
    /// The leg's response is over: kept for a later request when it is `poolable`, else closed.
    func release(_ leg: any HTTPClientLeg)
    /// The owner gives the leg up: it is cancelled (an HTTP/1.1 connection closed, an
    /// HTTP/2 stream reset), never reused.
    func discard(_ leg: any HTTPClientLeg)
    /// Closes every idle leg; legs released later are closed too (the owner is going).
    func closeAll()
}
