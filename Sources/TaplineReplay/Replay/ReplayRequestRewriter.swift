import TaplineCapture
import TaplineHTTPClient
import TaplineWire

/// Turns a recorded flow's request into the request replay sends (`ReplayRequest`):
/// pure, no I/O.
///
/// - Destination: `rules.target`, else the flow's recorded scheme and authority with
///   `rules.hostMap` applied.
/// - Protocol as recorded: a flow recorded over HTTP/2 offers ALPN `h2,http/1.1` over
///   TLS and speaks HTTP/2 by prior knowledge over plain TCP; one recorded over
///   HTTP/1.x offers `http/1.1` (TLS) or speaks HTTP/1.1; an `h2c://` target makes
///   every flow HTTP/2 by prior knowledge.
/// - Host: the destination's authority in `Host` (HTTP/1.1) or `:authority` and
///   `:scheme` (HTTP/2), unless `rules.keepHost`.
/// - HTTP/1.1 framing: `Content-Length` of the stored body, or chunked when the request
///   had trailers or was chunked; hop-by-hop fields dropped; an absolute-form target
///   (a forward proxy's) sent in origin-form.
public enum ReplayRequestRewriter {
    /// - Throws: the reason the flow cannot be sent (no request head; an authority that
    ///   is not host[:port]).
    public static func request(for flow: CapturedFlow, rules: ReplayTargetRules) throws(ReplaySkipReason) -> ReplayRequest {
        guard let recorded = flow.request else { throw ReplaySkipReason("no request head was recorded") }
        let isHTTP2 = recorded.version == .http2
        let target: UpstreamTarget
        let priorKnowledge: Bool
        if let chosen = rules.target {
            target = chosen.upstream
            priorKnowledge = chosen.priorKnowledgeHTTP2 || (isHTTP2 && target.scheme == .http)
        } else {
            let scheme: UpstreamTarget.Scheme = flow.scheme == "https" ? .https : .http
            let authority = rules.hostMap[flow.authority.lowercased()] ?? flow.authority
            guard let (host, port) = UpstreamTarget.splitAuthority(authority[...], defaultPort: scheme == .https ? 443 : 80),
                  !host.isEmpty else {
                throw ReplaySkipReason("its authority \(authority.debugDescription) is not host[:port]")
            }
            target = UpstreamTarget(scheme: scheme, host: host, port: port)
            priorKnowledge = isHTTP2 && scheme == .http
        }
        let offer: UpstreamProtocolOffer = priorKnowledge ? UpstreamProtocolOffer(alpn: [], priorKnowledgeHTTP2: true)
            : isHTTP2 ? .http2OrHTTP1 : .http1
        let bodyBytes = flow.requestBody.capturedBytes
        let expectsContinue = recorded.headers.containsToken("100-continue", inField: "Expect")

        if isHTTP2 {
            var fields = HTTPHeaders()
            for (name, value) in recorded.headers {
                switch name {
                case ":authority" where !rules.keepHost: fields.add(name: name, value: target.authority)
                case "host" where !rules.keepHost: fields.add(name: name, value: target.authority)
                case ":scheme": fields.add(name: name, value: target.scheme.rawValue)
                default: fields.add(name: name, value: value)
                }
            }
            return ReplayRequest(sourceFlow: flow.id, target: target, offer: offer, head: .http2(fields),
                                 recordedHead: HTTP2HeadTranslator.capturedRequest(fields), bodyBytes: bodyBytes,
                                 trailers: flow.requestTrailers, expectsContinue: expectsContinue)
        }
        let chunked = flow.requestTrailers != nil || recorded.headers.containsToken("chunked", inField: "Transfer-Encoding")
        let framing: HTTP1BodyFraming = chunked ? .chunked
            : (bodyBytes > 0 || recorded.headers.contains(name: "Content-Length")) ? .contentLength(Int(bodyBytes)) : .none
        var head = HTTP1HeadRewriter.forwardedRequest(recorded, framing: framing, originForm: originForm(recorded.target),
                                                      isUpgrade: false)
        if !rules.keepHost || !head.headers.contains(name: "Host") {
            head.headers.replaceOrAdd(name: "Host", value: rules.keepHost ? flow.authority : target.authority)
        }
        return ReplayRequest(sourceFlow: flow.id, target: target, offer: offer, head: .http1(head), recordedHead: head,
                             bodyBytes: bodyBytes, trailers: flow.requestTrailers, expectsContinue: expectsContinue)
    }

    /// `http://host/p?q` -> `/p?q`; an origin-form target as it is.
    static func originForm(_ target: String) -> String {
        guard !target.hasPrefix("/"), let schemeEnd = target.range(of: "://") else { return target }
        let afterAuthority = target[schemeEnd.upperBound...].firstIndex { $0 == "/" || $0 == "?" }
        guard let start = afterAuthority else { return "/" }
        let rest = target[start...]
        return rest.hasPrefix("/") ? String(rest) : "/" + rest
    }
}
