import TaplineHTTPClient
import TaplineWire

/// The HTTP/1.1 fields `ReplayRequestRewriter.request` made last, reused for the next
/// flow that asks for them again: a flow whose recorded fields are the previous flow's,
/// byte for byte and in order, sent with the same framing and Host value, is sent with
/// the same fields (a session's flows from one client mostly repeat one header list),
/// so they are not checked, filtered, framed and given their Host again.
///
/// Invariant: `fields(recorded:framing:host:)` gives the list `remember` was last given
/// for equal arguments, or nil (the recorded fields equal as `HTTPHeaders.==` says: the
/// same bytes of names and values, in order; the Host of the same bytes); its caller
/// makes the fields of those three alone, so a list remembered is the one it would make again.
///
/// Memory: one recorded list and the list made of it (the last flow's), shared with
/// the requests that use them (copy-on-write storage, never written once shared).
///
/// Thread ownership: one thread at a time, as the `ReplayDestinationMemo` beside it.
final class ReplayRequestFieldsMemo {
    private var lastRecorded = HTTPHeaders()
    private var lastFraming = HTTP1BodyFraming.none
    private var lastHost = ""
    /// The fields made for the three above; nil before the first flow.
    private var lastMade: HTTPHeaders?

    init() {}

    /// The fields last remembered for `recorded` sent with `framing` and Host `host`, if
    /// those were the last ones remembered.
    func fields(recorded: HTTPHeaders, framing: HTTP1BodyFraming, host: String) -> HTTPHeaders? {
        // The Host compared as bytes: `String`'s `==` takes canonically equivalent text as equal.
        guard let lastMade, framing == lastFraming, host.withUTF8Bytes({ host in lastHost.withUTF8Bytes { host.sameBytes(as: $0) } }),
              recorded == lastRecorded else { return nil }
        return lastMade
    }

    /// Remembers `made`, the fields for `recorded` sent with `framing` and Host `host`
    /// (in place of the last ones).
    func remember(_ made: HTTPHeaders, recorded: HTTPHeaders, framing: HTTP1BodyFraming, host: String) {
        lastRecorded = recorded
        lastFraming = framing
        lastHost = host
        lastMade = made
    }

}
