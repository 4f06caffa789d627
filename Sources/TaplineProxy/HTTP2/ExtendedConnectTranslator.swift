import TaplineHTTPClient
import TaplineWire

/// Pure translation between an RFC 8441 extended CONNECT (WebSocket over an HTTP/2
/// stream) and the HTTP/1.1 Upgrade handshake of RFC 6455 §4: the request becomes a
/// GET with `Upgrade: websocket`, a fresh `Sec-WebSocket-Key` and version 13
/// (subprotocols, extensions and other end-to-end fields kept); the upstream's 101
/// becomes `:status 200` with the selected subprotocol and extensions. The frames
/// that follow are the same on both (clients mask in both), so nothing else changes.
enum ExtendedConnectTranslator {
    /// `:protocol` of an extended CONNECT request, nil for any other request.
    static func protocolName(_ fields: HTTPHeaders) -> String? {
        guard fields.first(name: ":method") == "CONNECT" else { return nil }
        return fields.first(name: ":protocol")
    }

    /// Checks that an extended CONNECT can be bridged: `:protocol websocket` and the
    /// pseudo-headers RFC 8441 §4 requires (nghttp2 enforces them too; this is the reason text).
    static func validate(_ fields: HTTPHeaders) throws(ExtendedConnectError) {
        let name = fields.first(name: ":protocol") ?? ""
        guard name.lowercased() == "websocket" else { throw .unsupportedProtocol(name) }
        for pseudo in [":scheme", ":path", ":authority"] where (fields.first(name: pseudo) ?? "").isEmpty {
            throw .missingPseudoHeader(pseudo)
        }
    }

    /// The HTTP/1.1 Upgrade request for an extended CONNECT: `GET :path`, Host from
    /// `:authority` (or `hostHeader` in reverse mode), the client's fields except the
    /// key/version (ours replace them), then Upgrade, Connection, key and version 13.
    static func http1UpgradeRequest(_ fields: HTTPHeaders, key: String, hostHeader: String?,
                                    forwardedFor: (clientIP: String, scheme: String)?) -> HTTPRequestHead {
        var rewritten = HTTPHeaders()
        rewritten.reserveCapacity(fields.count + 3)
        for field in fields {
            switch field.name.lowercased() {
            case ":method": rewritten.add(name: ":method", value: "GET")
            case ":protocol", "sec-websocket-key", "sec-websocket-version": continue
            default: rewritten.add(name: field.name, value: field.value)
            }
        }
        rewritten.add(name: "Upgrade", value: "websocket")
        rewritten.add(name: "Sec-WebSocket-Key", value: key)
        rewritten.add(name: "Sec-WebSocket-Version", value: "13")
        return HTTP2HeadTranslator.http1Request(rewritten, hostHeader: hostHeader, forwardedFor: forwardedFor,
                                                isUpgrade: true)
    }

    /// The client's `:status 200` block for the upstream's answer to `http1UpgradeRequest`.
    /// - Throws: when the answer is not a valid switch to WebSocket for `key`: a 2xx
    ///   (the Upgrade was ignored), a 101 to something else, or a wrong accept value.
    ///   Other statuses are not passed here; they are forwarded as ordinary responses.
    static func http2Response(toUpgrade response: HTTPResponseHead, key: String) throws(ExtendedConnectError) -> HTTPHeaders {
        guard response.status == 101 else { throw .notSwitched(status: response.status) }
        guard WebSocketHandshake.isUpgradeResponse(response) else { throw .wrongUpgrade }
        // Field values arrive with surrounding whitespace removed by the parser.
        guard response.headers.first(name: "Sec-WebSocket-Accept") == WebSocketHandshake.acceptValue(forKey: key) else {
            throw .wrongAccept
        }
        var out = HTTPHeaders()
        out.add(name: ":status", value: "200")
        for field in HTTP2HeadTranslator.http2Response(response)
        where !field.name.hasPrefix(":") && field.name != "sec-websocket-accept" {
            out.add(name: field.name, value: field.value)
        }
        return out
    }
}
