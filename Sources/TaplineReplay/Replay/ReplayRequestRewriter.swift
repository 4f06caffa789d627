import TaplineCapture
import TaplineHTTPClient
import TaplineWire

/// Turns a recorded flow's request into the request replay sends (`ReplayRequest`):
/// pure, no I/O.
///
/// - Destination: `rules.target`, else the flow's recorded scheme and authority with
///   `rules.hostMap` applied.
/// - Protocol as recorded: a flow recorded over HTTP/2 offers ALPN `h2,http/1.1` over
///   TLS, and over plain TCP speaks HTTP/2 by prior knowledge to its recorded (h2c)
///   destination; one recorded over HTTP/1.x offers `http/1.1` (TLS) or speaks
///   HTTP/1.1. A `--target`'s scheme decides for plain TCP: `h2c://` makes every flow
///   HTTP/2 by prior knowledge, `http://` every flow HTTP/1.1 (an HTTP/2 request
///   translated, as the proxy does for an HTTP/1.1 upstream).
/// - Host: the destination's authority in `Host` (HTTP/1.1) or `:authority` and
///   `:scheme` (HTTP/2), unless `rules.keepHost`.
/// - Fields: hop-by-hop ones dropped, pseudo-header fields (an HTTP/2 block's, a
///   HAR's) made the start line; an absolute-form target (a forward proxy's) sent in
///   origin-form. HTTP/1.1 framing: `Content-Length` of the stored body, or chunked
///   when the request had trailers or was chunked. An HTTP/2 block is made of that
///   head (`HTTP2HeadTranslator.http2Request`), with the recorded `content-length` if
///   it stated one.
/// - A WebSocket flow recorded over HTTP/1.1: the HTTP/1.1 Upgrade handshake (RFC 6455
///   §4.1) with the recorded fields (subprotocols and extensions offered as recorded).
///   Its `Sec-WebSocket-Key` is the recorded one here; each attempt sends a fresh one
///   (`ReplayRequest.withFreshWebSocketKey`).
/// - A WebSocket flow recorded as an RFC 8441 extended CONNECT over HTTP/2, to a
///   destination spoken to over HTTP/2 (ALPN h2 over TLS, or prior knowledge): the
///   extended CONNECT again (`extendedConnectBlock`), with as its fallback
///   (`ReplayRequest.http1Upgrade`) the GET Upgrade the proxy's bridge makes of one
///   (`Upgrade`, `Connection`, version 13), for a server that does not announce
///   SETTINGS_ENABLE_CONNECT_PROTOCOL. To an HTTP/1.1 destination (`--target http://`),
///   that GET Upgrade.
public enum ReplayRequestRewriter {
    /// - Throws: the reason the flow cannot be sent (no request head; an authority that
    ///   is not host[:port]), as `destination` does.
    public static func request(for flow: CapturedFlow, rules: ReplayTargetRules) throws(ReplaySkipReason) -> ReplayRequest {
        try request(for: flow, rules: rules, to: destination(for: flow, rules: rules))
    }

    /// The request for `flow` sent to `destination`, which `destination(for:rules:)` gave
    /// for the same flow and rules (a plan that checked every flow's destination first
    /// reuses it). `fields`: the HTTP/1.1 fields made for the flow before, reused when
    /// this flow's recorded fields, framing and Host are the same (nil: made for each flow).
    ///
    /// - Throws: the reason the flow cannot be sent (no request head).
    public static func request(for flow: CapturedFlow, rules: ReplayTargetRules,
                               to destination: ReplayDestination) throws(ReplaySkipReason) -> ReplayRequest {
        try request(for: flow, rules: rules, to: destination, fields: nil)
    }

    static func request(for flow: CapturedFlow, rules: ReplayTargetRules, to destination: ReplayDestination,
                        fields memo: ReplayRequestFieldsMemo?) throws(ReplaySkipReason) -> ReplayRequest {
        guard let recorded = flow.request else { throw ReplaySkipReason("no request head was recorded") }
        let isHTTP2 = recorded.version.major >= 2 // HTTP/3 (an imported HAR's) goes as HTTP/2
        let target = destination.target
        let offer = destination.offer
        let bodyBytes = flow.requestBody.capturedBytes
        let asked = askedFields(of: recorded.headers)
        let expectsContinue = asked.expectsContinue
        // The recorded authority is looked up only when it is kept (`--keep-host`).
        let host = rules.keepHost
            ? recorded.headers.first(name: ":authority") ?? recorded.headers.first(name: "Host") ?? flow.authority
            : target.authority

        // One HTTP/1.1 head for every flow (an HTTP/2 block or a HAR's pseudo-header
        // fields become its start line and Host), then an HTTP/2 block of it when the flow is HTTP/2.
        if flow.kind == .websocket {
            let upgrade = webSocketUpgrade(flow: flow, fields: regularFields(of: recorded.headers), host: host)
            guard destination.sendsExtendedConnect else {
                return ReplayRequest(sourceFlow: flow.id, target: target, offer: .http1, head: .http1(upgrade),
                                     recordedHead: upgrade, bodyBytes: 0, trailers: nil, expectsContinue: false)
            }
            let block = extendedConnectBlock(upgrade: upgrade, scheme: target.scheme.rawValue)
            return ReplayRequest(sourceFlow: flow.id, target: target, offer: offer, head: .http2(block),
                                 recordedHead: HTTP2HeadTranslator.capturedRequest(block), bodyBytes: 0, trailers: nil,
                                 expectsContinue: false, http1Upgrade: upgrade)
        }
        let chunked = !isHTTP2 && (flow.requestTrailers != nil || asked.listsChunked)
        let framing: HTTP1BodyFraming = chunked ? .chunked
            : (asked.statesLength || (!isHTTP2 && bodyBytes > 0)) ? .contentLength(Int(bodyBytes)) : .none
        let originTarget = originForm(recorded.target)
        let fields: HTTPHeaders
        if let reused = memo?.fields(recorded: recorded.headers, framing: framing, host: host) {
            fields = reused
        } else {
            fields = http1Fields(of: recorded.headers, framing: framing, host: host)
            memo?.remember(fields, recorded: recorded.headers, framing: framing, host: host)
        }
        let head = HTTPRequestHead(method: recorded.method, target: originTarget, version: .http1_1, headers: fields)
        if isHTTP2 {
            let fields = HTTP2HeadTranslator.http2Request(head, scheme: target.scheme.rawValue, defaultAuthority: host)
            return ReplayRequest(sourceFlow: flow.id, target: target, offer: offer, head: .http2(fields),
                                 recordedHead: HTTP2HeadTranslator.capturedRequest(fields), bodyBytes: bodyBytes,
                                 trailers: flow.requestTrailers, expectsContinue: expectsContinue)
        }
        return ReplayRequest(sourceFlow: flow.id, target: target, offer: offer, head: .http1(head), recordedHead: head,
                             bodyBytes: bodyBytes, trailers: flow.requestTrailers, expectsContinue: expectsContinue)
    }

    /// The fields of the HTTP/1.1 head made of recorded fields `recorded` (a flow that is
    /// no WebSocket): no pseudo-header or hop-by-hop field, the one framing field `framing`
    /// implies (the fields of `HTTP1HeadRewriter.forwardedRequest`), and Host `host`.
    /// Depends on nothing else (`ReplayRequestFieldsMemo` relies on it).
    private static func http1Fields(of recorded: HTTPHeaders, framing: HTTP1BodyFraming, host: String) -> HTTPHeaders {
        var fields = HTTP1HeadRewriter.framed(HTTP1HeadRewriter.removeHopByHop(regularFields(of: recorded), keepUpgrade: false),
                                              framing)
        fields.replaceOrAdd(name: "Host", value: host)
        return fields
    }

    /// Where `request(for:rules:)` sends the flow and which protocols it offers, without
    /// making the request (what a plan checks of every flow before sending any).
    ///
    /// - Throws: the reason the flow cannot be sent (no request head; an authority that
    ///   is not host[:port]).
    public static func destination(for flow: CapturedFlow, rules: ReplayTargetRules) throws(ReplaySkipReason) -> ReplayDestination {
        guard let recorded = flow.request else { throw ReplaySkipReason("no request head was recorded") }
        let isHTTP2 = recorded.version.major >= 2 // HTTP/3 (an imported HAR's) goes as HTTP/2
        let target: UpstreamTarget
        let priorKnowledge: Bool
        if let chosen = rules.target {
            target = chosen.upstream
            priorKnowledge = chosen.priorKnowledgeHTTP2
        } else {
            let scheme: UpstreamTarget.Scheme = flow.scheme == "https" ? .https : .http
            let authority = rules.hostMap.isEmpty ? flow.authority : rules.hostMap[flow.authority.lowercased()] ?? flow.authority
            guard let (host, port) = UpstreamTarget.splitAuthority(authority[...], defaultPort: scheme == .https ? 443 : 80),
                  !host.isEmpty else {
                throw ReplaySkipReason("its authority \(authority.debugDescription) is not host[:port]")
            }
            target = UpstreamTarget(scheme: scheme, host: host, port: port)
            priorKnowledge = isHTTP2 && scheme == .http
        }
        let offer: UpstreamProtocolOffer = priorKnowledge ? UpstreamProtocolOffer(alpn: [], priorKnowledgeHTTP2: true)
            : isHTTP2 && target.scheme == .https ? .http2OrHTTP1 : .http1
        return ReplayDestination(flow: flow, target: target, offer: offer)
    }

    /// What `request` asks of the recorded fields, in one pass over them: whether an
    /// `Expect` field lists `100-continue`, a `Content-Length` field is present, and a
    /// `Transfer-Encoding` field lists `chunked` (names and tokens ASCII case-insensitive,
    /// as `HTTPHeaders.containsToken` and `contains(name:)` compare them).
    static func askedFields(of recorded: HTTPHeaders)
        -> (expectsContinue: Bool, statesLength: Bool, listsChunked: Bool) {
        recorded.withUnsafeFieldBytes { fields in
            var expectsContinue = false, statesLength = false, listsChunked = false
            for index in 0..<fields.count {
                let name = fields.name(index)
                switch name.count {
                case 6 where HTTPHeaders.bytesEqualIgnoringCase(name, "expect"):
                    expectsContinue = expectsContinue || listsToken(fields.value(index), "100-continue")
                case 14 where HTTPHeaders.bytesEqualIgnoringCase(name, "content-length"):
                    statesLength = true
                case 17 where HTTPHeaders.bytesEqualIgnoringCase(name, "transfer-encoding"):
                    listsChunked = listsChunked || listsToken(fields.value(index), "chunked")
                default:
                    break
                }
            }
            return (expectsContinue, statesLength, listsChunked)
        }
    }

    private static func listsToken(_ value: UnsafeBufferPointer<UInt8>, _ token: StaticString) -> Bool {
        HTTPHeaders.listsToken(value, UnsafeBufferPointer(start: token.utf8Start, count: token.utf8CodeUnitCount))
    }

    /// The recorded fields without pseudo-header fields, in order. ASCII fields (all a
    /// plain session holds) are copied as bytes, or are the recorded list itself when it
    /// has no pseudo-header field (an HTTP/1.x recording's: shared, not copied; the head
    /// rewriter makes its own list where it changes one); otherwise each goes through a
    /// `String` as before, so text that is not UTF-8 is repaired the same way (U+FFFD).
    private static func regularFields(of recorded: HTTPHeaders) -> HTTPHeaders {
        var regular = HTTPHeaders()
        let copiedAsBytes = recorded.withUnsafeFieldBytes { fields -> Bool in
            guard fields.bytes.isASCII else { return false }
            guard (0..<fields.count).contains(where: { fields.name($0).first == UInt8(ascii: ":") }) else {
                regular = recorded
                return true
            }
            regular.reserveCapacity(fields.count + 1, bytes: fields.bytes.count)
            for index in 0..<fields.count where fields.name(index).first != UInt8(ascii: ":") {
                regular.add(fieldAt: index, of: fields)
            }
            return true
        }
        if !copiedAsBytes {
            for (name, value) in recorded where !name.hasPrefix(":") { regular.add(name: name, value: value) }
        }
        return regular
    }

    /// The opening handshake of a WebSocket flow, over HTTP/1.1.
    private static func webSocketUpgrade(flow: CapturedFlow, fields: HTTPHeaders, host: String) -> HTTPRequestHead {
        let originTarget = originForm(flow.request?.target ?? "/")
        var head = HTTP1HeadRewriter.forwardedRequest(HTTPRequestHead(method: "GET", target: originTarget, headers: fields),
                                                      framing: .none, originForm: originTarget, isUpgrade: true)
        head.headers.replaceOrAdd(name: "Host", value: host)
        head.headers.replaceOrAdd(name: "Upgrade", value: "websocket")
        head.headers.replaceOrAdd(name: "Connection", value: "Upgrade")
        head.headers.replaceOrAdd(name: "Sec-WebSocket-Version", value: "13")
        if !head.headers.contains(name: "Sec-WebSocket-Key") { head.headers.add(name: "Sec-WebSocket-Key", value: "") }
        return head
    }

    /// The RFC 8441 §4 extended CONNECT block for a WebSocket handshake (`upgrade`, the
    /// HTTP/1.1 Upgrade made of the recorded request): `:method CONNECT`, `:protocol
    /// websocket`, `:scheme`, `:authority` (its Host), `:path` (its target), then its
    /// fields as HTTP/2 sends them (lowercase, no connection-specific ones: no `Upgrade`,
    /// `Connection` or Host), without `Sec-WebSocket-Key` (§5: the key and accept are not
    /// used over HTTP/2); the offered subprotocols, extensions and version stay.
    static func extendedConnectBlock(upgrade: HTTPRequestHead, scheme: String) -> HTTPHeaders {
        var fields = HTTPHeaders()
        fields.add(name: ":method", value: "CONNECT")
        fields.add(name: ":protocol", value: "websocket")
        fields.add(name: ":scheme", value: scheme)
        fields.add(name: ":authority", value: upgrade.headers.first(name: "Host") ?? "")
        fields.add(name: ":path", value: upgrade.target)
        for field in HTTP2HeadTranslator.http2Request(upgrade, scheme: scheme, defaultAuthority: "")
        where !field.name.hasPrefix(":") && field.name != "sec-websocket-key" {
            fields.add(name: field.name, value: field.value)
        }
        return fields
    }

    /// `http://host/p?q` -> `/p?q`; an origin-form target as it is.
    static func originForm(_ target: String) -> String {
        // `/` then an ASCII byte (or nothing) is a first character `/` (an ASCII byte never
        // joins the character before it), decided without `hasPrefix`'s character walk.
        let bytes = target.utf8
        if bytes.first == UInt8(ascii: "/"), bytes.count == 1 || bytes[bytes.index(after: bytes.startIndex)] < 0x80 {
            return target
        }
        guard !target.hasPrefix("/"), let schemeEnd = target.range(of: "://") else { return target }
        let afterAuthority = target[schemeEnd.upperBound...].firstIndex { $0 == "/" || $0 == "?" }
        guard let start = afterAuthority else { return "/" }
        let rest = target[start...]
        return rest.hasPrefix("/") ? String(rest) : "/" + rest
    }
}
