import TaplineFlow
import TaplineHTTPClient
import TaplineWire

/// The state of one request/response exchange on an `HTTP1ProxyHandler`.
///
/// Invariants: at most one exchange per client connection is in flight
/// (pipelined requests wait in the parser); `requestComplete` and
/// `responseComplete` only go from false to true; the flow's events are
/// recorded in order by the owning handler.
///
/// Thread ownership: confined to the handler's event loop.
final class HTTP1Exchange {
    let flow: FlowID
    let request: HTTPRequestHead
    let target: UpstreamTarget
    /// The head as forwarded upstream.
    let upstreamRequest: HTTPRequestHead
    /// How the request body is delimited, as the parser decided (and as it is forwarded).
    let requestFraming: HTTP1BodyFraming
    let isUpgradeRequest: Bool
    /// The client asked to close after this exchange (Connection: close, or HTTP/1.0 without keep-alive).
    let clientWantsClose: Bool
    let timings = FlowTimingsBox()

    /// The head went over a kept-alive connection that an earlier exchange used.
    var sentOverReusedConnection = false
    /// The request was already sent a second time after a reused connection closed.
    var retried = false

    /// The head has been written upstream; body events may follow it.
    var upstreamReady = false
    var requestComplete = false
    var requestBodyBytes: UInt64 = 0

    var finalResponse: HTTPResponseHead?
    var responseFraming: HTTP1BodyFraming = .none
    var clientFraming: HTTP1BodyFraming = .none
    var responseComplete = false
    var responseBodyBytes: UInt64 = 0

    init(flow: FlowID, request: HTTPRequestHead, requestFraming: HTTP1BodyFraming, target: UpstreamTarget,
         upstreamRequest: HTTPRequestHead) {
        self.flow = flow
        self.request = request
        self.target = target
        self.upstreamRequest = upstreamRequest
        self.requestFraming = requestFraming
        self.isUpgradeRequest = Self.isUpgrade(request)
        self.clientWantsClose = Self.wantsClose(request)
    }

    /// The request says it is the connection's last: `Connection: close`, or HTTP/1.0
    /// without `Connection: keep-alive` (RFC 9112 §9.3).
    static func wantsClose(_ request: HTTPRequestHead) -> Bool {
        request.version == .http1_0
            ? !request.headers.containsToken("keep-alive", inField: "Connection")
            : request.headers.containsToken("close", inField: "Connection")
    }

    /// Safe to send again on a new connection (`StaleConnectionRetryRule`).
    var mayRetryOnFreshConnection: Bool {
        StaleConnectionRetryRule.allowsResend(
            method: request.method, requestHasBody: requestFraming.hasBody || requestBodyBytes > 0,
            requestComplete: requestComplete, overReusedConnection: sentOverReusedConnection,
            responseStarted: timings.value.firstResponseByte != nil, alreadyResent: retried)
    }

    /// A request asking to switch protocols: `Upgrade` listed in `Connection` (RFC 9110 §7.8).
    static func isUpgrade(_ head: HTTPRequestHead) -> Bool {
        head.headers.contains(name: "Upgrade") && head.headers.containsToken("upgrade", inField: "Connection")
    }

    /// The final response head has gone to the client (so an error can no longer be a clean 502).
    var responseHeadSent: Bool { finalResponse != nil }
}
