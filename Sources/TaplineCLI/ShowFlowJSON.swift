import TaplineCapture
import TaplineExport
import TaplineFlow
import TaplineWire

/// `tapline show SESSION --flow N --json`: one flow as a JSON object with the
/// same names as the capture format (headers as `[name, value]` pairs in wire
/// order, timings in microseconds since the epoch). A flow imported from a HAR
/// has the versions its entry recorded (`"version": "spdy"`) and `recordedTimings`,
/// the entry's `timings` phases in milliseconds as written (-1 kept); other
/// flows have `"recordedTimings": null`. A gRPC call adds `grpc`: its view's JSON
/// (`GRPCCallView.json`: method, kind, metadata, messages, trailers, status details).
enum ShowFlowJSON {
    static func text(_ flow: CapturedFlow, call: GRPCCallView? = nil) -> String {
        let recorded = HARRecordedEntry(flow: flow)
        let t = flow.timings
        let moments: [(String, Timestamp?)] = [
            ("requestStart", t.requestStart), ("dnsStart", t.dnsStart), ("dnsEnd", t.dnsEnd),
            ("connectStart", t.connectStart), ("connectEnd", t.connectEnd), ("tlsStart", t.tlsStart),
            ("tlsEnd", t.tlsEnd), ("requestSent", t.requestSent), ("firstResponseByte", t.firstResponseByte), ("done", t.done),
        ]
        var members = [
            JSONMember("id", .integer(flow.id.rawValue)),
            JSONMember("connection", .integer(flow.connection.rawValue)),
            JSONMember("kind", .string(flow.kind.rawValue)),
            JSONMember("scheme", .string(flow.scheme)),
            JSONMember("authority", .string(flow.authority)),
            JSONMember("url", .string(flow.url)),
            JSONMember("state", .string(flow.state.rawValue)),
            JSONMember("started", .integer(flow.started.microseconds)),
            JSONMember("bytesFromClient", .integer(flow.bytesFromClient)),
            JSONMember("bytesFromServer", .integer(flow.bytesFromServer)),
            JSONMember("upstreamReused", .bool(flow.upstreamReused)),
            JSONMember("interimResponses", .array(flow.interimResponses.map { response($0) })),
            JSONMember("requestBody", body(flow.requestBody)),
            JSONMember("responseBody", body(flow.responseBody)),
            JSONMember("client", flow.clientAddress.map { .string($0) } ?? .null),
            JSONMember("clientTLS", flow.clientTLS.map(tls) ?? .null),
            JSONMember("server", flow.serverAddress.map { .string($0) } ?? .null),
            JSONMember("upstreamTLS", flow.upstreamTLS.map(tls) ?? .null),
            JSONMember("request", flow.request.map { request($0, version: recorded?.recordedHTTPVersion(response: false)) } ?? .null),
            JSONMember("response", flow.response.map { response($0, version: recorded?.recordedHTTPVersion(response: true)) } ?? .null),
            JSONMember("requestTrailers", flow.requestTrailers.map(headers) ?? .null),
            JSONMember("responseTrailers", flow.responseTrailers.map(headers) ?? .null),
            JSONMember("grpcStatus", flow.grpcStatus.map { status in
                .object([JSONMember("code", .integer(status.code)), JSONMember("name", .string(status.name)),
                         JSONMember("message", .string(status.message))])
            } ?? .null),
            JSONMember("error", flow.error.map(error) ?? .null),
            JSONMember("durationMs", flow.durationMilliseconds.map(JSONValue.double) ?? .null),
            JSONMember("timings", .object(moments.compactMap { name, moment in
                moment.map { JSONMember(name, .integer($0.microseconds)) }
            })),
            JSONMember("recordedTimings", recorded?.recordedTimings.map(recordedTimings) ?? .null),
        ]
        if let call { members.append(JSONMember("grpc", call.json)) }
        if flow.kind == .websocket {
            members.append(JSONMember("webSocketMessages",
                                      ShowWebSocketTimeline.json(flow, sessionDirectory: flow.requestBody.sessionDirectory)))
        }
        return ShowJSON.text(.object(members))
    }

    static func headers(_ headers: HTTPHeaders) -> JSONValue {
        .array(headers.fields.map { .array([.string($0.name), .string($0.value)]) })
    }

    /// `version`: the one an imported HAR entry recorded, in place of the parsed one.
    static func request(_ head: HTTPRequestHead, version: String? = nil) -> JSONValue {
        .object([JSONMember("method", .string(head.method)), JSONMember("target", .string(head.target)),
                 JSONMember("version", .string(version ?? head.version.description)), JSONMember("headers", headers(head.headers))])
    }

    static func response(_ head: HTTPResponseHead, version: String? = nil) -> JSONValue {
        .object([JSONMember("status", .integer(head.status)), JSONMember("reason", .string(head.reason)),
                 JSONMember("version", .string(version ?? head.version.description)), JSONMember("headers", headers(head.headers))])
    }

    /// A recorded error: `{"kind", "message"}`.
    static func error(_ error: RecordedError) -> JSONValue {
        .object([JSONMember("kind", .string(error.kind)), JSONMember("message", .string(error.message))])
    }

    /// HAR names to milliseconds, only the phases the entry recorded.
    static func recordedTimings(_ timings: HARRecordedTimings) -> JSONValue {
        .object(timings.recordedPhases.map { JSONMember($0.name, .double($0.milliseconds)) })
    }

    static func tls(_ tls: TLSDetails) -> JSONValue {
        var members = [JSONMember("version", .string(tls.version)), JSONMember("cipher", .string(tls.cipher))]
        if let name = tls.serverName { members.append(JSONMember("sni", .string(name))) }
        if let alpn = tls.alpn { members.append(JSONMember("alpn", .string(alpn))) }
        if let peer = tls.peerCertificate {
            members.append(JSONMember("peer", .object([
                JSONMember("subject", .string(peer.subject)), JSONMember("issuer", .string(peer.issuer)),
                JSONMember("sha256", .string(peer.sha256Fingerprint)),
            ])))
        }
        return .object(members)
    }

    static func body(_ body: CapturedBody) -> JSONValue {
        .object([JSONMember("bodyBytes", .integer(body.bodyBytes)), JSONMember("capturedBytes", .integer(body.capturedBytes)),
                 JSONMember("truncated", .bool(body.truncated)), JSONMember("complete", .bool(body.isComplete))])
    }
}
