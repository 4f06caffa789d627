import TaplineCapture
import TaplineHTTPClient

/// Where and how a recorded flow's request is sent again (`ReplayRequestRewriter.destination`):
/// the upstream and the protocols offered to it, without the request's head, which is
/// made only when the flow is sent. Immutable.
public struct ReplayDestination {
    public let target: UpstreamTarget
    public let offer: UpstreamProtocolOffer
    /// The flow is a WebSocket recorded as an RFC 8441 extended CONNECT and goes as one
    /// again (its destination speaks HTTP/2); otherwise a WebSocket goes as an HTTP/1.1 Upgrade.
    public let sendsExtendedConnect: Bool

    init(flow: borrowing CapturedFlow, target: UpstreamTarget, offer: UpstreamProtocolOffer) {
        self.target = target
        self.offer = offer
        // `kind` first: the handshake's fields are looked at only for a WebSocket.
        sendsExtendedConnect = flow.kind == .websocket && offer != .http1 && flow.isExtendedConnectWebSocket
    }
}
