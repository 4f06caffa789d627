import TaplineWire

/// The gRPC-Web ↔ gRPC translation of one call through the gateway (`tapline proxy
/// --reverse h2c://… --grpc-web`), as Envoy's grpc_web filter does it (gRPC's
/// PROTOCOL-WEB.md): the browser's request head and body become a native gRPC request
/// toward the upstream, and the upstream's answer (head, messages, trailers, or a
/// trailers-only head) becomes a gRPC-Web response whose body ends with the trailer frame.
///
/// Sans-I/O: heads and byte chunks in, heads and byte chunks out, in the order the owner
/// (`GRPCWebGatewayLeg`) hears them; no socket, no clock. Message bytes are never held:
/// binary chunks go through as they are, a `-text` request chunk is decoded as far as
/// its whole base64 groups (`GRPCWebTextDecoder`), and each `-text` response chunk is
/// encoded on its own (each padded; the decoder on the other side takes padded runs
/// back to back), so server streaming flows message by message.
///
/// Invariants: the bytes out do not depend on how the request body was split; exactly
/// one trailer frame ends every translated response (`responseEnd` or `failure`), after
/// which nothing more comes out.
///
/// A value type; confined to its owner's thread.
struct GRPCWebTranslator {
    /// Where the response is.
    private enum ResponseStage {
        case awaitingHead
        /// A gRPC answer: messages pass through.
        case streaming
        /// The upstream's answer is not gRPC: its body is dropped, and the status
        /// (mapped from its HTTP status) goes in the trailer frame.
        case notGRPC(GRPCStatus)
        /// The trailer frame went out.
        case ended
    }

    /// The request's gRPC-Web media type (`-text` or binary, suffix).
    let mediaType: GRPCWebMediaType
    /// The request's `Content-Type` as sent; the response mirrors it.
    let clientContentType: String
    /// The request's `Origin`, allowed on the response (CORS).
    let origin: String?
    private var textDecoder = GRPCWebTextDecoder()
    /// Checks the request body is whole gRPC frames (the upstream must not get half a message).
    private var requestFramer = GRPCMessageFramer(framing: .grpc, maxMessageBytes: Int(UInt32.max))
    private var framerEvents: [GRPCFramerEvent] = []
    private var response = ResponseStage.awaitingHead
    /// The status fields of a trailers-only head, sent in the trailer frame.
    private var headTrailers = HTTPHeaders()

    /// Nil when `request` is not gRPC-Web (its `Content-Type`): it passes through unchanged.
    init?(request: HTTPRequestHead) {
        guard request.method == "POST", let contentType = request.headers.first(name: "Content-Type"),
              let mediaType = GRPCWebMediaType(contentType) else { return nil }
        self.mediaType = mediaType
        clientContentType = contentType
        origin = request.headers.first(name: "Origin")
    }

    /// The whole response has gone out (the trailer frame was produced).
    var responseEnded: Bool { if case .ended = response { true } else { false } }

    // MARK: Request

    /// The native gRPC request for `head` (the browser's, already rewritten for the
    /// upstream): `Content-Type` `application/grpc` + the same suffix, `te: trailers`, no
    /// `Content-Length` (a `-text` body shrinks; HTTP/2 frames the body) and no
    /// `Transfer-Encoding`; every other field as it came.
    func upstreamRequest(_ head: HTTPRequestHead) -> HTTPRequestHead {
        var headers = HTTPHeaders()
        headers.reserveCapacity(head.headers.count + 1, bytes: head.headers.byteCount)
        for field in head.headers {
            switch field.name.lowercased() {
            case "content-type": headers.add(name: "content-type", value: mediaType.nativeContentType)
            case "content-length", "transfer-encoding", "te": continue
            default: headers.add(name: field.name, value: field.value)
            }
        }
        headers.add(name: "te", value: "trailers")
        return HTTPRequestHead(method: head.method, target: head.target, version: head.version, headers: headers)
    }

    /// The gRPC bytes of the next request body chunk (the same bytes for binary; decoded
    /// for `-text`, possibly none while a base64 group is cut).
    mutating func requestBody(_ bytes: ArraySlice<UInt8>) throws(GRPCWebTranslationError) -> ArraySlice<UInt8> {
        let plain: ArraySlice<UInt8>
        if mediaType.isText {
            do throws(GRPCWebTextError) { plain = try textDecoder.decode(bytes)[...] } catch { throw .requestNotBase64(error) }
        } else {
            plain = bytes
        }
        do throws(GRPCFramingError) {
            try requestFramer.consume(plain, into: &framerEvents)
        } catch {
            throw .requestNotFramed(error)
        }
        framerEvents.removeAll(keepingCapacity: true)
        return plain
    }

    /// The request body ended: throws when it ended inside a base64 group or a frame.
    mutating func requestEnd() throws(GRPCWebTranslationError) {
        if mediaType.isText {
            do throws(GRPCWebTextError) { try textDecoder.finish() } catch { throw .requestNotBase64(error) }
        }
        do throws(GRPCFramingError) { try requestFramer.finish() } catch { throw .requestNotFramed(error) }
    }

    // MARK: Response

    /// The gRPC-Web head for the upstream's final head (`upstream` as received: an
    /// HTTP/2 head with its pseudo-headers, or HTTP/1.1): 200, `Content-Type` mirroring the
    /// request's, the upstream's metadata, CORS fields; the status fields of a
    /// trailers-only head are kept for the trailer frame. An upstream answer that is not
    /// gRPC (not 200, or not `application/grpc*`) becomes the same head; its body is
    /// dropped and the trailer frame carries the HTTP status mapped to a gRPC status.
    mutating func responseHead(_ upstream: HTTPResponseHead) -> HTTPResponseHead {
        let contentType = upstream.headers.first(name: "content-type")
        if upstream.status != 200 || !(contentType.map(GRPCStatus.isGRPC(contentType:)) ?? false) {
            response = .notGRPC(Self.status(forHTTPStatus: upstream.status, contentType: contentType))
        } else {
            response = .streaming
        }
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: clientContentType)
        if case .streaming = response {
            for field in upstream.headers {
                let name = field.name.lowercased()
                if name.hasPrefix(":") || Self.notForwarded.contains(name) { continue }
                if Self.statusFields.contains(name) {
                    headTrailers.add(name: name, value: field.value)
                } else {
                    headers.add(name: field.name, value: field.value)
                }
            }
        }
        GRPCWebCORS.addResponseFields(to: &headers, origin: origin)
        return HTTPResponseHead(version: .http1_1, status: 200, reason: HTTPStatusText.reason(200), headers: headers)
    }

    /// The bytes to send the browser for a chunk of the upstream's body: the same bytes
    /// (binary), their base64 (`-text`), or none (an answer that is not gRPC).
    func responseBody(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        guard case .streaming = response, !bytes.isEmpty else { return [] }
        return mediaType.isText ? Array(Base64.encode(bytes).utf8)[...] : bytes
    }

    /// The trailer frame that ends the response: the trailers-only head's status fields,
    /// then `trailers` (`grpc-status`, `grpc-message`, other trailing metadata); a
    /// `grpc-status` 13 when neither had one.
    mutating func responseEnd(trailers: HTTPHeaders?) -> [UInt8] {
        var fields = HTTPHeaders()
        switch response {
        case .ended:
            return []
        case .notGRPC(let status):
            fields = Self.statusFields(status)
        case .awaitingHead, .streaming:
            fields = headTrailers
            for field in trailers ?? HTTPHeaders() where !Self.notForwarded.contains(field.name.lowercased()) {
                fields.add(name: field.name, value: field.value)
            }
            if !fields.contains(name: "grpc-status") {
                var withStatus = Self.statusFields(GRPCStatus(code: 13, message: "the upstream ended the call without a grpc-status"))
                for field in fields { withStatus.add(name: field.name, value: field.value) }
                fields = withStatus
            }
        }
        response = .ended
        return encodedForClient(GRPCMessageFrame.encodedWebTrailers(fields))
    }

    /// The call fails with `status` (the upstream failed or reset, the request was
    /// malformed): the head when none went out yet, and the trailer frame; nothing once
    /// the response ended.
    mutating func failure(_ status: GRPCStatus) -> (head: HTTPResponseHead?, body: [UInt8]) {
        var head: HTTPResponseHead?
        switch response {
        case .ended:
            return (nil, [])
        case .awaitingHead:
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: clientContentType)
            GRPCWebCORS.addResponseFields(to: &headers, origin: origin)
            head = HTTPResponseHead(version: .http1_1, status: 200, reason: HTTPStatusText.reason(200), headers: headers)
        case .streaming, .notGRPC:
            break
        }
        response = .ended
        return (head, encodedForClient(GRPCMessageFrame.encodedWebTrailers(Self.statusFields(status))))
    }

    private func encodedForClient(_ frame: [UInt8]) -> [UInt8] {
        mediaType.isText ? Array(Base64.encode(frame).utf8) : frame
    }

    // MARK: Fields

    /// Fields never passed from the upstream's head or trailers to the browser: framing,
    /// hop-by-hop, and the content type (the request's is mirrored).
    static let notForwarded: Set<String> = [
        "content-type", "content-length", "transfer-encoding", "te", "trailer", "connection", "keep-alive",
        "upgrade", "proxy-connection",
    ]
    /// A trailers-only head's fields that belong in the trailer frame.
    static let statusFields: Set<String> = ["grpc-status", "grpc-message", "grpc-status-details-bin"]

    /// `grpc-status` and `grpc-message` (percent-encoded as gRPC requires) for `status`.
    static func statusFields(_ status: GRPCStatus) -> HTTPHeaders {
        var fields = HTTPHeaders()
        fields.add(name: "grpc-status", value: String(status.code))
        if !status.message.isEmpty {
            fields.add(name: "grpc-message", value: PercentEncoding.encode(status.message, keep: printableButPercent))
        }
        return fields
    }

    /// Printable ASCII but `%`: what `grpc-message` keeps unescaped.
    private static let printableButPercent = String(decoding: (0x20...0x7E).filter { $0 != 0x25 }.map(UInt8.init), as: UTF8.self)

    /// The gRPC status for an upstream answer that is not gRPC, by gRPC's
    /// http-grpc-status-mapping.md (400 → INTERNAL, 401 → UNAUTHENTICATED, 403 →
    /// PERMISSION_DENIED, 404 → UNIMPLEMENTED, 429/502/503/504 → UNAVAILABLE, else UNKNOWN;
    /// a 200 that is not `application/grpc*` → UNKNOWN), with a message saying what came.
    static func status(forHTTPStatus status: Int, contentType: String?) -> GRPCStatus {
        let code: Int
        switch status {
        case 400: code = 13
        case 401: code = 16
        case 403: code = 7
        case 404: code = 12
        case 429, 502, 503, 504: code = 14
        default: code = 2
        }
        return GRPCStatus(code: code, message: "the upstream is not gRPC: it answered HTTP \(status) with content-type \(contentType ?? "(none)")")
    }
}
