import TaplineWire

/// Pure functions between HTTP/2 header blocks and HTTP/1.1 heads (RFC 9113 §8.2–8.3):
/// pseudo-headers ↔ start line and Host, connection-specific fields dropped,
/// `TE: trailers` kept, names lowercased toward HTTP/2, split cookies joined toward HTTP/1.
/// HTTP semantics any owner of a leg applies; the proxy's reverse-mode rewriting
/// (`:authority`, Host, X-Forwarded-*) is in `HTTP2HeadTranslator+ReverseMode.swift`.
public enum HTTP2HeadTranslator {
    /// Fields that are never valid in HTTP/2 (connection-specific), besides any `Connection` names.
    static let connectionSpecific: Set<String> = HTTP1HeadRewriter.hopByHop.union(["transfer-encoding", "host"])

    /// The request head as received on an HTTP/2 stream, for the capture: `:method`,
    /// `:path` (or `:authority` for CONNECT), version HTTP/2, and every field as received.
    public static func capturedRequest(_ fields: HTTPHeaders) -> HTTPRequestHead {
        capturedRequest(fields, requestPseudoHeaders(fields))
    }

    /// `capturedRequest` with the pseudo-headers already looked up.
    public static func capturedRequest(_ fields: HTTPHeaders, _ pseudo: HTTP2RequestPseudoHeaders) -> HTTPRequestHead {
        HTTPRequestHead(method: pseudo.method ?? "", target: pseudo.path ?? pseudo.authority ?? "",
                        version: .http2, headers: fields)
    }

    /// The pseudo-headers of a request block, in one pass that stops at the first
    /// regular field (pseudo-headers come first, RFC 9113 §8.3; nghttp2 enforces it).
    public static func requestPseudoHeaders(_ fields: HTTPHeaders) -> HTTP2RequestPseudoHeaders {
        var found = HTTP2RequestPseudoHeaders()
        fields.withUnsafeFieldBytes { fields in
            for index in 0..<fields.count {
                guard fields.name(index).first == UInt8(ascii: ":") else { break }
                if fields.nameIs(index, ":method") {
                    found.method = found.method ?? HTTPCommonTokens.method(fields.value(index))
                } else if fields.nameIs(index, ":scheme") {
                    found.scheme = found.scheme ?? HTTPCommonTokens.scheme(fields.value(index))
                } else if fields.nameIs(index, ":authority") {
                    found.authority = found.authority ?? fields.valueString(index)
                } else if fields.nameIs(index, ":path") {
                    found.path = found.path ?? fields.valueString(index)
                }
            }
        }
        return found
    }

    /// A response head received on an HTTP/2 stream, for the capture and framing decisions.
    public static func capturedResponse(_ fields: HTTPHeaders) -> HTTPResponseHead {
        HTTPResponseHead(version: .http2, status: fields.http2Status ?? 0, reason: "",
                         headers: fields)
    }

    /// The HTTP/1.1 request an HTTP/2 request block translates to, before it is forwarded:
    /// Host from `:authority` (unless the block has a `host` field), split `cookie`
    /// fields joined, the other regular fields in their order, CONNECT's target its
    /// `:authority`. Its framing is the block's `content-length` (nghttp2 has checked it
    /// is one number that the DATA frames will match), else none: the caller adds
    /// chunked when a body of unknown length follows.
    public static func translatedHTTP1Request(_ fields: HTTPHeaders) -> (head: HTTPRequestHead, framing: HTTP1BodyFraming) {
        var headers = HTTPHeaders()
        headers.reserveCapacity(fields.count + 1)
        if let authority = fields.first(name: ":authority"), !fields.contains(name: "host") {
            headers.add(name: "Host", value: authority)
        }
        var cookies: [String] = []
        for field in fields where !field.name.hasPrefix(":") {
            if field.name == "cookie" { cookies.append(field.value) } else { headers.add(name: field.name, value: field.value) }
        }
        if !cookies.isEmpty { headers.add(name: "cookie", value: cookies.joined(separator: "; ")) }
        let method = fields.first(name: ":method") ?? "GET"
        let target = method == "CONNECT" ? (fields.first(name: ":authority") ?? "") : (fields.first(name: ":path") ?? "/")
        let head = HTTPRequestHead(method: method, target: target, version: .http1_1, headers: headers)
        let framing = fields.first(name: "content-length").flatMap { Int($0) }.map(HTTP1BodyFraming.contentLength) ?? .none
        return (head, framing)
    }

    /// The HTTP/1.1 request to send on an HTTP/1.1 leg for an HTTP/2 request block:
    /// `translatedHTTP1Request`, forwarded (`HTTP1HeadRewriter.forwardedRequest`).
    public static func http1Request(_ fields: HTTPHeaders) -> HTTPRequestHead {
        let (head, framing) = translatedHTTP1Request(fields)
        return HTTP1HeadRewriter.forwardedRequest(head, framing: framing, originForm: head.target, isUpgrade: false)
    }

    /// The HTTP/2 request block for an HTTP/1.1 request (already rewritten for upstream).
    public static func http2Request(_ head: HTTPRequestHead, scheme: String, defaultAuthority: String) -> HTTPHeaders {
        var out = HTTPHeaders()
        out.reserveCapacity(head.headers.count + 4)
        out.add(name: ":method", value: head.method)
        out.add(name: ":scheme", value: scheme)
        out.add(name: ":authority", value: head.headers.first(name: "Host") ?? defaultAuthority)
        out.add(name: ":path", value: head.target)
        appendRegularFields(head.headers, to: &out)
        return out
    }

    /// The HTTP/2 response block for an HTTP/1.1 response.
    public static func http2Response(_ head: HTTPResponseHead) -> HTTPHeaders {
        var out = HTTPHeaders()
        out.reserveCapacity(head.headers.count + 1)
        out.add(name: ":status", value: String(head.status))
        appendRegularFields(head.headers, to: &out)
        return out
    }

    /// The HTTP/1.1 response head for an HTTP/2 response block: its regular fields, and
    /// the framing field `framing` implies when the block states no content-length
    /// (`content-length: 0`, or `transfer-encoding: chunked` for a body of unknown
    /// length). HTTP/2 has no reason phrase; an HTTP/1.1 client gets the standard one
    /// rather than none (h2load, for one, counts a status line without a reason as a
    /// failed request).
    public static func http1Response(_ fields: HTTPHeaders, framing: HTTP1BodyFraming) -> HTTPResponseHead {
        var headers = http1Fields(fields)
        if !fields.contains(name: "content-length") {
            switch framing {
            case .contentLength(let length): headers.add(name: "content-length", value: String(length))
            case .chunked: headers.add(name: "transfer-encoding", value: "chunked")
            case .none, .untilClose: break
            }
        }
        let status = fields.http2Status ?? 502
        return HTTPResponseHead(version: .http1_1, status: status, reason: HTTPStatusText.reason(status), headers: headers)
    }

    /// How an HTTP/1.1 message carrying this HTTP/2 response is framed: none for a
    /// response to HEAD, a 204 or a 304; its content-length; zero when the HEADERS ended
    /// the stream; else chunked (its length is not known up front).
    static func http1Framing(of fields: HTTPHeaders, requestIsHEAD: Bool, endStream: Bool) -> HTTP1BodyFraming {
        let status = fields.http2Status ?? 0
        if requestIsHEAD || status == 204 || status == 304 { return .none }
        if let length = fields.first(name: "content-length").flatMap({ Int($0) }) { return .contentLength(length) }
        return endStream ? .contentLength(0) : .chunked
    }

    /// Trailers toward HTTP/2: names lowercased, the fields
    /// `HTTP1HeadRewriter.forwardableTrailers` drops (framing, routing, hop-by-hop) dropped.
    public static func http2Trailers(_ trailers: HTTPHeaders?) -> HTTPHeaders? {
        guard let trailers = HTTP1HeadRewriter.forwardableTrailers(trailers) else { return nil }
        var out = HTTPHeaders()
        appendRegularFields(trailers, to: &out)
        return out.isEmpty ? nil : out
    }

    /// Regular (non-pseudo) fields of an HTTP/2 block, as an HTTP/1.1 header list.
    static func http1Fields(_ fields: HTTPHeaders) -> HTTPHeaders {
        var out = HTTPHeaders()
        fields.withUnsafeFieldBytes { fields in
            out.reserveCapacity(fields.count, bytes: fields.bytes.count)
            for index in 0..<fields.count where fields.name(index).first != UInt8(ascii: ":") {
                out.add(fieldAt: index, of: fields)
            }
        }
        return out
    }

    private static func appendRegularFields(_ headers: HTTPHeaders, to out: inout HTTPHeaders) {
        let named = Set(HTTP1HeadRewriter.namedByConnection(headers))
        for field in headers {
            let lower = field.name.lowercased()
            if lower == "te" {
                if field.value.lowercased().contains("trailers") { out.add(name: "te", value: "trailers") }
                continue
            }
            if connectionSpecific.contains(lower) || named.contains(lower) { continue }
            out.add(name: lower, value: field.value)
        }
    }
}
