import TaplineHTTPClient
import TaplineWire

/// The proxy's reverse-mode rewriting on top of the translations of
/// `HTTP2HeadTranslator` (TaplineHTTPClient): Host or `:authority` replaced and
/// X-Forwarded-* added. Pure functions, like the translations they call.
extension HTTP2HeadTranslator {
    /// The HTTP/1.1 request to send upstream for an HTTP/2 request
    /// (`translatedHTTP1Request`, then `HTTP1HeadRewriter.upstreamRequest`): Host comes
    /// from `:authority` (or `hostHeader` in reverse mode); regular fields keep their order.
    /// `isUpgrade` keeps an `Upgrade` field (with `Connection: Upgrade`), for the
    /// WebSocket handshake an extended CONNECT becomes.
    static func http1Request(_ fields: HTTPHeaders, hostHeader: String?,
                             forwardedFor: (clientIP: String, scheme: String)?, isUpgrade: Bool = false) -> HTTPRequestHead {
        let (head, framing) = translatedHTTP1Request(fields)
        return HTTP1HeadRewriter.upstreamRequest(head, framing: framing, originForm: head.target, hostHeader: hostHeader,
                                                 forwardedFor: forwardedFor, isUpgrade: isUpgrade)
    }

    /// The HTTP/2 request block for an HTTP/2 request going to an HTTP/2 upstream.
    /// Reverse mode replaces `:authority` and adds X-Forwarded-*: earlier
    /// `x-forwarded-for` values are joined with the client's address into one field
    /// at the end; `x-forwarded-proto` and `x-forwarded-host` (the original
    /// `:authority`) are added unless the client sent them.
    ///
    /// One pass over the fields (this runs for every proxied HTTP/2 request); the runs
    /// of fields between the replaced ones are copied a run at a time.
    static func http2Request(_ fields: HTTPHeaders, authority: String?,
                             forwardedFor: (clientIP: String, scheme: String)?) -> HTTPHeaders {
        guard authority != nil || forwardedFor != nil else { return fields }
        var out = HTTPHeaders()
        out.reserveCapacity(fields.count + 3, bytes: fields.byteCount + 128)
        fields.withUnsafeFieldBytes { fields in
            var originalAuthority: Int?  // copied as bytes into x-forwarded-host: no String
            var earlierForwardedFor: String?
            var hasForwardedProto = false, hasForwardedHost = false
            var run = 0  // the first field of the run copied unchanged, not yet added
            for index in 0..<fields.count {
                if fields.nameIs(index, ":authority") {
                    if originalAuthority == nil, forwardedFor != nil { originalAuthority = index }
                    if let authority {
                        out.add(fieldsIn: run..<index, of: fields)
                        run = index + 1
                        out.add(literalName: ":authority", value: authority)
                    }
                } else if forwardedFor != nil, fields.nameIs(index, "x-forwarded-for") {
                    out.add(fieldsIn: run..<index, of: fields)
                    run = index + 1
                    let value = fields.valueString(index)
                    earlierForwardedFor = earlierForwardedFor.map { $0 + ", " + value } ?? value
                } else if fields.nameIs(index, "x-forwarded-proto") {
                    hasForwardedProto = true
                } else if fields.nameIs(index, "x-forwarded-host") {
                    hasForwardedHost = true
                }
            }
            out.add(fieldsIn: run..<fields.count, of: fields)
            guard let forwardedFor else { return }
            out.add(literalName: "x-forwarded-for",
                    value: earlierForwardedFor.map { $0 + ", " + forwardedFor.clientIP } ?? forwardedFor.clientIP)
            if !hasForwardedProto { out.add(literalName: "x-forwarded-proto", value: forwardedFor.scheme) }
            if let originalAuthority, !hasForwardedHost {
                let name: StaticString = "x-forwarded-host"
                out.add(name: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount),
                        value: fields.value(originalAuthority))
            }
        }
        return out
    }
}
