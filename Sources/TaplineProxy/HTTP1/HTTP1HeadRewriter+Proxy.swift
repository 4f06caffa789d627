import TaplineHTTPClient
import TaplineWire

/// The proxy's policy on top of the forwarding rules of `HTTP1HeadRewriter`
/// (TaplineHTTPClient): Host and X-Forwarded-* set in reverse mode, the head a client
/// gets, and absolute-form targets split into the upstream they name.
/// Pure functions, like the rules they call.
extension HTTP1HeadRewriter {
    /// The request head sent upstream.
    /// - Parameters:
    ///   - framing: how the forwarded body is delimited (the parser's decision for an
    ///     HTTP/1.1 request): the head gets exactly the one framing field it implies.
    ///   - originForm: the path and query to put in the request line.
    ///   - hostHeader: when non-nil, Host is set to this (reverse mode, an absolute-form
    ///     target in forward mode, or a missing Host).
    ///   - forwardedFor: when non-nil, X-Forwarded-For/-Proto/-Host are added (client IP, client scheme).
    static func upstreamRequest(_ head: HTTPRequestHead, framing: HTTP1BodyFraming, originForm: String,
                                hostHeader: String?, forwardedFor: (clientIP: String, scheme: String)?,
                                isUpgrade: Bool) -> HTTPRequestHead {
        var forwarded = forwardedRequest(head, framing: framing, originForm: originForm, isUpgrade: isUpgrade)
        guard hostHeader != nil || forwardedFor != nil else { return forwarded }
        let originalHost = head.headers.first(name: "Host")
        if let hostHeader {
            forwarded.headers.replaceOrAdd(name: "Host", value: hostHeader)
        }
        if let forwardedFor {
            if let existing = forwarded.headers.first(name: "X-Forwarded-For") {
                forwarded.headers.replaceOrAdd(name: "X-Forwarded-For", value: existing + ", " + forwardedFor.clientIP)
            } else {
                forwarded.headers.add(name: "X-Forwarded-For", value: forwardedFor.clientIP)
            }
            if !forwarded.headers.contains(name: "X-Forwarded-Proto") {
                forwarded.headers.add(name: "X-Forwarded-Proto", value: forwardedFor.scheme)
            }
            if let originalHost, !forwarded.headers.contains(name: "X-Forwarded-Host") {
                forwarded.headers.add(name: "X-Forwarded-Host", value: originalHost)
            }
        }
        return forwarded
    }

    /// The response head sent to the client, with framing made to fit the client.
    /// - Parameters:
    ///   - framing: how the response arrives from upstream.
    ///   - clientFraming: how it will be sent to the client (chunked becomes
    ///     close-delimited for HTTP/1.0 clients).
    ///   - statedContentLength: for a bodiless response (`clientFraming == .none`: HEAD,
    ///     1xx, 204, 304), the Content-Length its parser found stated, written as one
    ///     field (`bodilessResponseFields`); nil leaves its fields as received.
    ///   - closeAfter: the client connection closes after this response.
    static func clientResponse(_ head: HTTPResponseHead, framing: HTTP1BodyFraming, clientFraming: HTTP1BodyFraming,
                               statedContentLength: Int? = nil, closeAfter: Bool, clientVersion: HTTPVersion,
                               isUpgrade: Bool) -> HTTPResponseHead {
        var headers = removeHopByHop(head.headers, keepUpgrade: isUpgrade)
        if clientFraming != .none {
            headers = self.framed(headers, clientFraming)
        } else {
            headers = bodilessResponseFields(headers, statedContentLength: statedContentLength)
        }
        if !isUpgrade {
            if closeAfter {
                headers.add(name: "Connection", value: "close")
            } else if clientVersion == .http1_0 {
                headers.add(name: "Connection", value: "keep-alive")
            }
        }
        return HTTPResponseHead(version: .http1_1, status: head.status, reason: head.reason, headers: headers)
    }

    /// Splits an absolute-form target (`http://host:port/path?q`) into the
    /// upstream it names and the origin-form rest (`/path?q`, `/` when empty).
    ///
    /// Works on the UTF-8 bytes: it runs for every request a forward proxy gets (and
    /// is tried on every origin-form one), and character-by-character `String` work
    /// (`lowercased()`, grapheme-aware indexing) cost ~25,000 instructions per request,
    /// 40% of a forward-proxied 1 KiB request's loop time. Every delimiter is ASCII,
    /// so the indices found are character boundaries.
    static func splitAbsoluteForm(_ target: String) -> (UpstreamTarget, String)? {
        let bytes = target.utf8
        let scheme: UpstreamTarget.Scheme
        let afterScheme: String.Index
        if let end = asciiPrefixEnd(bytes, caseInsensitive: "http://") {
            scheme = .http; afterScheme = end
        } else if let end = asciiPrefixEnd(bytes, caseInsensitive: "https://") {
            scheme = .https; afterScheme = end
        } else {
            return nil
        }
        let slash = UInt8(ascii: "/"), question = UInt8(ascii: "?"), hash = UInt8(ascii: "#")
        let pathStart = bytes[afterScheme...].firstIndex { $0 == slash || $0 == question || $0 == hash } ?? bytes.endIndex
        var authorityStart = afterScheme
        if let at = bytes[afterScheme..<pathStart].lastIndex(of: UInt8(ascii: "@")) { authorityStart = bytes.index(after: at) }
        guard authorityStart < pathStart,
              let (host, port) = UpstreamTarget.splitAuthority(target[authorityStart..<pathStart],
                                                               defaultPort: scheme == .https ? 443 : 80)
        else { return nil }
        let restEnd = bytes[pathStart...].firstIndex(of: hash) ?? bytes.endIndex
        let rest: String
        if pathStart == restEnd {
            rest = "/"
        } else if bytes[pathStart] == question {
            rest = "/" + target[pathStart..<restEnd]
        } else {
            rest = String(target[pathStart..<restEnd])
        }
        return (UpstreamTarget(scheme: scheme, host: host, port: port), rest)
    }

    /// Where `prefix` (lower-case ASCII) ends in `bytes` when they start with it, any case; else nil.
    private static func asciiPrefixEnd(_ bytes: String.UTF8View, caseInsensitive prefix: StaticString) -> String.Index? {
        var index = bytes.startIndex
        for expected in UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount) {
            guard index < bytes.endIndex else { return nil }
            let byte = bytes[index]
            guard byte == expected || (byte >= 0x41 && byte <= 0x5A && byte | 0x20 == expected) else { return nil }
            index = bytes.index(after: index)
        }
        return index
    }
}
