import TaplineFlow
import TaplineHTTPClient
import TaplineWire

/// One recorded request as it is sent again: where, over which protocol, with which
/// head, and what the new capture records as its request head. Built by
/// `ReplayRequestRewriter`; immutable (a variant is a new request: `replacingBody`,
/// `withFreshWebSocketKey`, `fallingBackToHTTP1Upgrade`).
///
/// A class, so that the item, its exchange and whoever reads it share one request:
/// handing it on retains it once, where copying a struct of its dozen fields retained
/// and later released each of them.
public final class ReplayRequest {
    public let sourceFlow: FlowID
    public let target: UpstreamTarget
    public let offer: UpstreamProtocolOffer
    /// The head for the leg: an HTTP/1.1 head (origin-form, Host, framed for the stored
    /// body) for a flow recorded over HTTP/1.x, the HTTP/2 block for one recorded over HTTP/2.
    public let head: LegRequestHead
    /// The request head the replay session records (an HTTP/2 block as `capturedRequest`).
    public let recordedHead: HTTPRequestHead
    /// Request body bytes to send: what the capture kept, or `replacementBody`'s count.
    public let bodyBytes: UInt64
    /// The body to send instead of the stored one (`tapline replay --edit`); nil: the stored body.
    public let replacementBody: [UInt8]?
    public let trailers: HTTPHeaders?
    /// The request asks `Expect: 100-continue`: its body waits for a 100 (or a short timeout).
    public let expectsContinue: Bool
    /// Set for an RFC 8441 extended CONNECT (a WebSocket recorded over HTTP/2, sent so
    /// again; `head` is its block): the HTTP/1.1 Upgrade handshake it falls back to when
    /// the server does not take one over HTTP/2 (`fallingBackToHTTP1Upgrade`).
    public let http1Upgrade: HTTPRequestHead?
    /// The request is an RFC 8441 extended CONNECT (`http1Upgrade` is set), sent as one
    /// only over an HTTP/2 connection whose server announced SETTINGS_ENABLE_CONNECT_PROTOCOL.
    /// Stored, not computed: one load.
    public let isExtendedConnect: Bool

    public init(sourceFlow: FlowID, target: UpstreamTarget, offer: UpstreamProtocolOffer, head: LegRequestHead,
                recordedHead: HTTPRequestHead, bodyBytes: UInt64, trailers: HTTPHeaders?, expectsContinue: Bool,
                replacementBody: [UInt8]? = nil, http1Upgrade: HTTPRequestHead? = nil) {
        self.sourceFlow = sourceFlow
        self.target = target
        self.offer = offer
        self.head = head
        self.recordedHead = recordedHead
        self.bodyBytes = bodyBytes
        self.trailers = trailers
        self.expectsContinue = expectsContinue
        self.replacementBody = replacementBody
        self.http1Upgrade = http1Upgrade
        isExtendedConnect = http1Upgrade != nil
    }

    /// The same request sending `body` instead of the stored one; a stated length
    /// (`Content-Length`, `content-length` in an HTTP/2 block) is set to its size.
    public func replacingBody(_ body: [UInt8]) -> ReplayRequest {
        func restated(_ fields: HTTPHeaders) -> HTTPHeaders {
            guard fields.contains(name: "Content-Length") else { return fields }
            var result = fields
            result.replaceOrAdd(name: fields.contains(name: ":method") ? "content-length" : "Content-Length", value: String(body.count))
            return result
        }
        let newHead: LegRequestHead
        switch head {
        case .http1(var head):
            head.headers = restated(head.headers)
            newHead = .http1(head)
        case .http2(let fields):
            newHead = .http2(restated(fields))
        }
        var recorded = recordedHead
        recorded.headers = restated(recorded.headers)
        return ReplayRequest(sourceFlow: sourceFlow, target: target, offer: offer, head: newHead, recordedHead: recorded,
                             bodyBytes: UInt64(body.count), trailers: trailers, expectsContinue: expectsContinue,
                             replacementBody: body, http1Upgrade: http1Upgrade)
    }

    /// The same request with a fresh `Sec-WebSocket-Key` (a WebSocket handshake: each
    /// attempt sends its own, RFC 6455 §4.1); an extended CONNECT has no key.
    public func withFreshWebSocketKey() -> ReplayRequest {
        guard case .http1(var head) = head else { return self }
        head.headers.replaceOrAdd(name: "Sec-WebSocket-Key", value: WebSocketHandshake.newKey())
        return ReplayRequest(sourceFlow: sourceFlow, target: target, offer: offer, head: .http1(head), recordedHead: head,
                             bodyBytes: bodyBytes, trailers: trailers, expectsContinue: expectsContinue)
    }

    /// An extended CONNECT's HTTP/1.1 Upgrade (`http1Upgrade`, with a fresh key), over
    /// HTTP/1.1 to the same target; the request itself when it is no extended CONNECT.
    public func fallingBackToHTTP1Upgrade() -> ReplayRequest {
        guard let http1Upgrade else { return self }
        return ReplayRequest(sourceFlow: sourceFlow, target: target, offer: .http1, head: .http1(http1Upgrade),
                             recordedHead: http1Upgrade, bodyBytes: 0, trailers: nil, expectsContinue: false)
            .withFreshWebSocketKey()
    }

    /// The request's `scheme` and authority as the capture names them (`flowStarted`).
    public var scheme: String { target.scheme.rawValue }
}
