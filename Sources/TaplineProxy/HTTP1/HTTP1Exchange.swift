import TaplineFlow
import TaplineHTTPClient
import TaplineWire

/// What one request/response exchange on an `HTTP1ProxyHandler` is: its flow, the
/// request as received and as forwarded, where it goes. Fixed when the request head
/// arrives; the exchange's progress is `HTTP1ExchangeStateMachine`'s state.
///
/// `timings` is the one mutable part: the connector stamps the connection's setup
/// into it while the machine waits for a leg, the machine stamps the rest from the
/// times it is handed, and a relay taking over after a 101 keeps stamping it.
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

    /// A request asking to switch protocols: `Upgrade` listed in `Connection` (RFC 9110 §7.8).
    static func isUpgrade(_ head: HTTPRequestHead) -> Bool {
        head.headers.contains(name: "Upgrade") && head.headers.containsToken("upgrade", inField: "Connection")
    }
}
