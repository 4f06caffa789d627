import Foundation
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
        var object: [String: Any] = [
            "id": Int(clamping: flow.id.rawValue),
            "connection": Int(clamping: flow.connection.rawValue),
            "kind": flow.kind.rawValue,
            "scheme": flow.scheme,
            "authority": flow.authority,
            "url": flow.url,
            "state": flow.state.rawValue,
            "started": Int(flow.started.microseconds),
            "bytesFromClient": Int(clamping: flow.bytesFromClient),
            "bytesFromServer": Int(clamping: flow.bytesFromServer),
            "upstreamReused": flow.upstreamReused,
            "interimResponses": flow.interimResponses.map { response($0) },
            "requestBody": body(flow.requestBody),
            "responseBody": body(flow.responseBody),
        ]
        object["client"] = flow.clientAddress ?? NSNull()
        object["clientTLS"] = flow.clientTLS.map(tls) ?? NSNull()
        object["server"] = flow.serverAddress ?? NSNull()
        object["upstreamTLS"] = flow.upstreamTLS.map(tls) ?? NSNull()
        object["request"] = flow.request.map { request($0, version: recorded?.recordedHTTPVersion(response: false)) } ?? NSNull()
        object["response"] = flow.response.map { response($0, version: recorded?.recordedHTTPVersion(response: true)) } ?? NSNull()
        object["requestTrailers"] = flow.requestTrailers.map(headers) ?? NSNull()
        object["responseTrailers"] = flow.responseTrailers.map(headers) ?? NSNull()
        object["grpcStatus"] = flow.grpcStatus.map { ["code": $0.code, "name": $0.name, "message": $0.message] } ?? NSNull()
        object["error"] = flow.error.map { ["kind": $0.kind, "message": $0.message] } ?? NSNull()
        object["durationMs"] = flow.durationMilliseconds ?? NSNull()
        if let call { object["grpc"] = ShowJSON.foundationObject(call.json) }
        if flow.kind == .websocket {
            object["webSocketMessages"] = ShowWebSocketTimeline.json(flow, sessionDirectory: flow.requestBody.sessionDirectory)
        }
        var timings: [String: Any] = [:]
        let t = flow.timings
        let moments: [(String, Timestamp?)] = [
            ("requestStart", t.requestStart), ("dnsStart", t.dnsStart), ("dnsEnd", t.dnsEnd),
            ("connectStart", t.connectStart), ("connectEnd", t.connectEnd), ("tlsStart", t.tlsStart),
            ("tlsEnd", t.tlsEnd), ("requestSent", t.requestSent), ("firstResponseByte", t.firstResponseByte), ("done", t.done),
        ]
        for (name, moment) in moments { if let moment { timings[name] = Int(moment.microseconds) } }
        object["timings"] = timings
        object["recordedTimings"] = recorded?.recordedTimings.map(recordedTimings) ?? NSNull()
        return ShowJSON.text(object)
    }

    static func headers(_ headers: HTTPHeaders) -> [[String]] {
        headers.fields.map { [$0.name, $0.value] }
    }

    /// `version`: the one an imported HAR entry recorded, in place of the parsed one.
    static func request(_ head: HTTPRequestHead, version: String? = nil) -> [String: Any] {
        ["method": head.method, "target": head.target, "version": version ?? head.version.description, "headers": headers(head.headers)]
    }

    static func response(_ head: HTTPResponseHead, version: String? = nil) -> [String: Any] {
        ["status": head.status, "reason": head.reason, "version": version ?? head.version.description, "headers": headers(head.headers)]
    }

    /// HAR names to milliseconds, only the phases the entry recorded.
    static func recordedTimings(_ timings: HARRecordedTimings) -> [String: Any] {
        Dictionary(uniqueKeysWithValues: timings.recordedPhases.map { ($0.name, $0.milliseconds as Any) })
    }

    static func tls(_ tls: TLSDetails) -> [String: Any] {
        var object: [String: Any] = ["version": tls.version, "cipher": tls.cipher]
        if let name = tls.serverName { object["sni"] = name }
        if let alpn = tls.alpn { object["alpn"] = alpn }
        if let peer = tls.peerCertificate {
            object["peer"] = ["subject": peer.subject, "issuer": peer.issuer, "sha256": peer.sha256Fingerprint]
        }
        return object
    }

    static func body(_ body: CapturedBody) -> [String: Any] {
        ["bodyBytes": Int(clamping: body.bodyBytes), "capturedBytes": Int(clamping: body.capturedBytes),
         "truncated": body.truncated, "complete": body.isComplete]
    }
}
