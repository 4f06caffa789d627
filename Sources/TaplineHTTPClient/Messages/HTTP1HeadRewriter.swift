import TaplineWire

/// Pure functions that turn a head as received into the head to forward on an
/// HTTP/1.1 leg: hop-by-hop fields dropped (RFC 9110 §7.6.1) and framing fields
/// adjusted to what the next leg can carry. HTTP semantics any owner of a leg
/// applies; routing policy (Host, X-Forwarded-*, absolute-form targets, the client's
/// response head) is added by the proxy in `HTTP1HeadRewriter+Proxy.swift`.
///
/// Invariant (request smuggling): the framing fields of a forwarded head are
/// written here from Tapline's own framing decision (`HTTP1BodyFraming`, from
/// the parser), one `Content-Length` or one `Transfer-Encoding` field, never the
/// fields as received; `Connection` cannot remove `Content-Length`,
/// `Transfer-Encoding` or `Host`; trailers lose every field that only means
/// something in a header section (`forwardableTrailers`).
public enum HTTP1HeadRewriter {
    /// Fields that describe one connection, never forwarded as they are (lowercase).
    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "proxy-authorization",
        "proxy-authenticate", "te", "upgrade",
    ]

    /// Connection options that name no field (so they need no removal pass).
    private static let connectionOptions: Set<String> = ["keep-alive", "close", "upgrade"]

    /// Fields a `Connection` header cannot remove (lowercase): the message's framing
    /// and routing are Tapline's decision. Without this, `Connection: Content-Length`
    /// would strip the length while the body is still forwarded, and the next hop
    /// would read that body as a second request Tapline never saw.
    private static let notRemovableByConnection: Set<String> = ["content-length", "transfer-encoding", "host"]

    /// Fields dropped from trailers before they are forwarded (lowercase; pseudo-headers
    /// too): hop-by-hop fields and those that only mean something in a header
    /// section (RFC 9110 §6.5.1): framing, routing, and the content's format.
    static let notForwardedInTrailers: Set<String> = hopByHop.union([
        "content-length", "transfer-encoding", "trailer", "host",
        "content-encoding", "content-type", "content-range",
    ])

    /// Removes hop-by-hop fields and every field the Connection header names.
    /// Keeps `TE: trailers` (it is end-to-end in practice) and, when
    /// `keepUpgrade`, the Upgrade field (then `Connection: Upgrade` is re-added).
    /// This runs for every request and response, so it compares names without
    /// allocating and only lowercases the Connection header's own tokens.
    public static func removeHopByHop(_ headers: HTTPHeaders, keepUpgrade: Bool) -> HTTPHeaders {
        headers.withUnsafeFieldBytes { fields in
            var hasHopByHop = false
            // Usually Connection carries only options (`keep-alive`, `close`): then it
            // names no field and no token list is built.
            var namesFields = false
            for index in 0..<fields.count where isHopByHop(fields.name(index)) {
                hasHopByHop = true
                if HTTPHeaders.bytesEqualIgnoringCase(fields.name(index), "connection"),
                   !listsOnlyConnectionOptions(fields.value(index)) {
                    namesFields = true
                }
            }
            if !keepUpgrade, !hasHopByHop {
                return headers  // nothing to drop (no Connection field, so nothing it names either)
            }
            let named = namesFields ? namedByConnection(headers) : []
            var result = HTTPHeaders()
            result.reserveCapacity(fields.count + 1, bytes: fields.bytes.count + 32)
            // Fields kept as they are go in runs (one copy per run of them); a run ends
            // at a field dropped or rewritten.
            var runStart = 0
            for index in 0..<fields.count {
                let name = fields.name(index)
                if isHopByHop(name) {
                    if keepUpgrade, HTTPHeaders.bytesEqualIgnoringCase(name, "upgrade") { continue }  // kept
                    result.add(fieldsIn: runStart..<index, of: fields)
                    runStart = index + 1
                    if HTTPHeaders.bytesEqualIgnoringCase(name, "te"),
                       fields.valueString(index).lowercased().contains("trailers") {
                        "trailers".withUTF8Bytes { result.add(name: name, value: $0) }
                    }
                    continue
                }
                if !named.isEmpty,
                   named.contains(where: { $0.withUTF8Bytes { HTTPHeaders.bytesEqualIgnoringCase($0, name) } }) {
                    result.add(fieldsIn: runStart..<index, of: fields)
                    runStart = index + 1
                }
            }
            result.add(fieldsIn: runStart..<fields.count, of: fields)
            if keepUpgrade { result.add(name: "Connection", value: "Upgrade") }
            return result
        }
    }

    /// The field names (lowercase) that the `Connection` fields of `headers` ask to
    /// remove: every token but the connection options and `notRemovableByConnection`.
    static func namedByConnection(_ headers: HTTPHeaders) -> [String] {
        headers.tokens(name: "Connection").filter {
            !connectionOptions.contains($0) && !notRemovableByConnection.contains($0) && !$0.hasPrefix(":")
        }
    }

    /// True when `name` is one of `hopByHop` (ASCII case-insensitive), decided by
    /// length first so most names cost one comparison of their length.
    @inline(__always)
    private static func isHopByHop(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        switch name.count {
        case 2: return HTTPHeaders.bytesEqualIgnoringCase(name, "te")
        case 7: return HTTPHeaders.bytesEqualIgnoringCase(name, "upgrade")
        case 10:
            return HTTPHeaders.bytesEqualIgnoringCase(name, "connection")
                || HTTPHeaders.bytesEqualIgnoringCase(name, "keep-alive")
        case 16: return HTTPHeaders.bytesEqualIgnoringCase(name, "proxy-connection")
        case 18: return HTTPHeaders.bytesEqualIgnoringCase(name, "proxy-authenticate")
        case 19: return HTTPHeaders.bytesEqualIgnoringCase(name, "proxy-authorization")
        default: return false
        }
    }

    /// True when every comma-separated token of a Connection value is one of
    /// `connectionOptions` (so it names no field), without allocating.
    private static func listsOnlyConnectionOptions(_ value: UnsafeBufferPointer<UInt8>) -> Bool {
        var onlyOptions = true
        HTTPHeaders.forEachToken(in: value) { token in
            onlyOptions = isConnectionOption(UnsafeBufferPointer(rebasing: token))
            return onlyOptions
        }
        return onlyOptions
    }

    /// `keep-alive`, `close` or `upgrade` (the members of `connectionOptions`), ASCII case-insensitive.
    private static func isConnectionOption(_ token: UnsafeBufferPointer<UInt8>) -> Bool {
        HTTPHeaders.bytesEqualIgnoringCase(token, "keep-alive") || HTTPHeaders.bytesEqualIgnoringCase(token, "close")
            || HTTPHeaders.bytesEqualIgnoringCase(token, "upgrade")
    }

    /// The request head to send on an HTTP/1.1 leg: hop-by-hop fields dropped (the
    /// Upgrade field kept when `isUpgrade`, with `Connection: Upgrade`), exactly the
    /// one framing field `framing` implies, `originForm` as the request-target.
    /// Routing policy (Host, X-Forwarded-*) is the owner's: the proxy's `upstreamRequest`.
    public static func forwardedRequest(_ head: HTTPRequestHead, framing: HTTP1BodyFraming, originForm: String,
                                        isUpgrade: Bool) -> HTTPRequestHead {
        HTTPRequestHead(method: head.method, target: originForm, version: .http1_1,
                        headers: framed(removeHopByHop(head.headers, keepUpgrade: isUpgrade), framing))
    }

    /// The fields of a bodiless response (HEAD, 204, 304) for the next hop: its
    /// Content-Length states the representation's length, not this message's
    /// (RFC 9110 §8.6), so it is kept, but once: `statedContentLength` (the value the
    /// response parser found all of its Content-Length values to agree on) replaces
    /// `5, 5` or repeated lines, which HTTP/2 clients reject as malformed. Nil leaves
    /// the fields as they are. (A Transfer-Encoding beside it goes, as `framed` does:
    /// RFC 9112 §6.2 forbids sending both.)
    public static func bodilessResponseFields(_ headers: HTTPHeaders, statedContentLength: Int?) -> HTTPHeaders {
        guard let statedContentLength else { return headers }
        return framed(headers, .contentLength(statedContentLength))
    }

    /// `headers` with their framing fields replaced by the one `framing` implies, placed
    /// where the first framing field was (at the end when there was none):
    /// `Content-Length: n`, or `Transfer-Encoding` listing the received transfer codings
    /// other than chunked, then `chunked` once (requests carry no other coding: the
    /// parser refuses them); close-delimited keeps those other codings; `.none`
    /// writes none. A head whose one framing field already says exactly that is
    /// returned as it is (the common case: no copy).
    public static func framed(_ headers: HTTPHeaders, _ framing: HTTP1BodyFraming) -> HTTPHeaders {
        let (count, alreadyFramed) = headers.withUnsafeFieldBytes { fields -> (Int, Bool) in
            var count = 0
            var matches = false
            for index in 0..<fields.count {
                let name = fields.name(index)
                if HTTPHeaders.bytesEqualIgnoringCase(name, "content-length") {
                    count += 1
                    if case .contentLength(let length) = framing {
                        matches = String(length).withUTF8Bytes { HTTPHeaders.bytesEqualIgnoringCase(fields.value(index), $0) }
                    }
                } else if HTTPHeaders.bytesEqualIgnoringCase(name, "transfer-encoding") {
                    count += 1
                    matches = framing == .chunked && HTTPHeaders.bytesEqualIgnoringCase(fields.value(index), "chunked")
                }
            }
            return (count, count == 1 && matches)
        }
        if alreadyFramed { return headers }
        // With no framing field there is no Transfer-Encoding to read codings from.
        let otherCodings = count == 0 ? [] : headers.tokens(name: "Transfer-Encoding").filter { $0 != "chunked" }
        let field: (name: String, value: String)?
        switch framing {
        case .none: field = nil
        case .contentLength(let length): field = ("Content-Length", String(length))
        case .chunked: field = ("Transfer-Encoding", (otherCodings + ["chunked"]).joined(separator: ", "))
        case .untilClose:
            field = otherCodings.isEmpty ? nil : ("Transfer-Encoding", otherCodings.joined(separator: ", "))
        }
        if count == 0 {
            guard let field else { return headers }
            var out = headers
            out.add(name: field.name, value: field.value)
            return out
        }
        var out = HTTPHeaders()
        out.reserveCapacity(headers.count + 1, bytes: headers.byteCount + 32)
        var written = false
        headers.withUnsafeFieldBytes { fields in
            for index in 0..<fields.count {
                let name = fields.name(index)
                guard HTTPHeaders.bytesEqualIgnoringCase(name, "content-length")
                    || HTTPHeaders.bytesEqualIgnoringCase(name, "transfer-encoding") else {
                    out.add(fieldAt: index, of: fields)
                    continue
                }
                if !written, let field { out.add(name: field.name, value: field.value) }
                written = true
            }
        }
        return out
    }

    /// Trailers to forward: those in `notForwardedInTrailers` and pseudo-headers
    /// dropped (RFC 9110 §6.5.1: a framing or routing field in trailers must not
    /// reach a hop that might merge it into the header section); nil when none remain.
    public static func forwardableTrailers(_ trailers: HTTPHeaders?) -> HTTPHeaders? {
        guard let trailers, !trailers.isEmpty else { return nil }
        let keep = trailers.withUnsafeFieldBytes { fields in
            (0..<fields.count).filter { index in
                let name = fields.name(index)
                return name.first != UInt8(ascii: ":") && !notForwardedInTrailers.contains { dropped in
                    dropped.withUTF8Bytes { HTTPHeaders.bytesEqualIgnoringCase(name, $0) }
                }
            }
        }
        if keep.count == trailers.count { return trailers }
        if keep.isEmpty { return nil }
        var out = HTTPHeaders()
        trailers.withUnsafeFieldBytes { fields in
            for index in keep { out.add(fieldAt: index, of: fields) }
        }
        return out
    }
}
