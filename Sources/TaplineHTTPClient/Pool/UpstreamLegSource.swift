/// Where an owner of exchanges (a proxy handler, replay) gets the upstream side of
/// each one, and gives it back: the server-side seam. `PooledUpstreamLegSource` is
/// the one that connects to real servers and reuses their connections; a mock server
/// is another source whose legs answer from a recording, with no socket under them
/// (an `HTTPClientLeg` needs none: see its `serverAddress`, `tls`).
///
/// Asking is two steps, so that the common case costs no closure: `readyLeg` hands
/// out a leg that can carry the request at once (an idle pooled one) or says there is
/// none; `openLeg` makes one (a new connection) and answers later. An owner whose
/// request needs a connection of its own (a resend after a reused connection was found
/// closed, `StaleConnectionRetryRule`; a WebSocket that takes its connection for good)
/// calls `openLeg` alone. `leg(for:mayReuse:completion:)` does both in one call.
///
/// Contract: every leg a source hands out goes back to it once, through `release`
/// (its response is over: it may carry another request) or `discard` (given up:
/// cancelled, failed, or its transport taken over after a 101), and the owner keeps
/// no reference to a released leg (another request may take it next). A discarded
/// leg's `delegate` is cleared; a released one may keep it while it waits for the next
/// request (an idle leg reports nothing, see `HTTPClientLeg`): whoever takes it sets its own.
///
/// Thread ownership: confined to one event loop; `openLeg`'s completion runs on it,
/// once, possibly before `openLeg` returns.
public protocol UpstreamLegSource: AnyObject {
    /// A leg that can carry `request` now (an idle one matching its `UpstreamPoolKey`),
    /// taken out of the source's keeping, or nil.
    func readyLeg(for request: UpstreamLegRequest) -> (any HTTPClientLeg)?
    /// A leg over a new connection, stamping its setup into `request.timings`, or the
    /// `UpstreamFailure` that says why there is none.
    func openLeg(for request: UpstreamLegRequest,
                 completion: @escaping (Result<any HTTPClientLeg, UpstreamFailure>) -> Void)
    /// The leg's response is over: kept for a later request when it is `poolable`, else closed.
    func release(_ leg: any HTTPClientLeg)
    /// The owner gives the leg up: it is cancelled (an HTTP/1.1 connection closed, an
    /// HTTP/2 stream reset), never reused.
    func discard(_ leg: any HTTPClientLeg)
    /// Closes every idle leg; legs released later are closed too (the owner is going).
    func closeAll()
}

extension UpstreamLegSource {
    /// A ready leg when `mayReuse` allows and there is one (`completion` runs before this
    /// returns), else a new one (`openLeg`).
    public func leg(for request: UpstreamLegRequest, mayReuse: Bool = true,
                    completion: @escaping (Result<any HTTPClientLeg, UpstreamFailure>) -> Void) {
        if mayReuse, let leg = readyLeg(for: request) {
            completion(.success(leg))
        } else {
            openLeg(for: request, completion: completion)
        }
    }
}
