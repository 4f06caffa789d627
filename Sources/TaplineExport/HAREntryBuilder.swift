import Foundation
import TaplineCapture
import TaplineFlow
import TaplineWire

/// Makes one HAR 1.2 entry from a captured flow, with the fidelity listed in
/// docs/export.md: `httpVersion` as on the wire, headers in wire order,
/// `postData` with `params` for forms, `content` as decoded text or base64,
/// cookies parsed, `serverIPAddress`, `connection`, timings including `dns`,
/// `connect` and `ssl` (-1 where they did not apply), and WebSocket messages in
/// `_webSocketMessages` as Chrome writes them; a gRPC call is marked with `_grpc` (its
/// method, kind, counts and status) and its messages as JSON in `_grpcMessages`
/// (`GRPCCallView+JSON`). Pure apart from reading bodies.
/// A flow imported from a HAR gets its recorded fields back (`HARRecordedEntry`,
/// laid over the entry built here), so import -> export reproduces the entry.
///
/// Timings invariant: `time` is the sum of the non-negative phases except
/// `ssl` (which HAR counts inside `connect`); `HARImporter` maps them to moments
/// (for `show`), and an imported flow exports its recorded timings as they were.
struct HAREntryBuilder {
    let bodyLimit: Int
    let messages: @Sendable (CapturedFlow) -> [FlowMessage]
    let grpcCalls: GRPCCallReader

    /// nil for flows that are not HTTP exchanges with a request (tunnels, failed handshakes).
    /// Each body the limit cut (or kept from being decoded) adds a sentence to `bodiesOverLimit`.
    func entry(_ flow: CapturedFlow, bodiesOverLimit: inout [String]) throws(CaptureError) -> JSONValue? {
        guard ExportedRequest.isExported(flow), let request = flow.request else { return nil }
        let url = RequestURL(flow: flow)
        let recorded = HARRecordedEntry(flow: flow)
        let start = flow.timings.requestStart ?? flow.requestTime ?? flow.started

        var requestMembers = [
            JSONMember("method", .string(request.method)),
            JSONMember("url", .string(url?.absolute ?? flow.url)),
            JSONMember("httpVersion", .string(request.version.description)),
            JSONMember("cookies", .array(HARCookies.request(request.headers))),
            JSONMember("headers", .array(Self.headers(request.headers))),
            JSONMember("queryString", .array((url?.query ?? []).map {
                .object([JSONMember("name", .string($0.name)), JSONMember("value", .string($0.value ?? ""))])
            })),
        ]
        let requestBody = try LoadedBody.load(flow.requestBody, headers: HTTPHeaders(), limit: bodyLimit)
        if requestBody.exceedsLimit { bodiesOverLimit.append("flow \(flow.id.rawValue) request: \(requestBody.note ?? "")") }
        if !requestBody.bytes.isEmpty || flow.requestBody.bodyBytes > 0 {
            requestMembers.append(JSONMember("postData", postData(request.headers, requestBody,
                                                                   base64: recorded?.recordedBase64(response: false))))
        }
        requestMembers.append(JSONMember("headersSize", .integer(Self.headSize(request))))
        requestMembers.append(JSONMember("bodySize", .integer(flow.requestBody.bodyBytes)))

        var responseMembers: [JSONMember]
        if let response = flow.response {
            let body = try LoadedBody.load(flow.responseBody, headers: response.headers, limit: bodyLimit)
            if body.exceedsLimit { bodiesOverLimit.append("flow \(flow.id.rawValue) response: \(body.note ?? "")") }
            responseMembers = [
                JSONMember("status", .integer(response.status)),
                JSONMember("statusText", .string(response.reason)),
                JSONMember("httpVersion", .string(response.version.description)),
                JSONMember("cookies", .array(HARCookies.response(response.headers))),
                JSONMember("headers", .array(Self.headers(response.headers))),
                JSONMember("content", content(response.headers, body, base64: recorded?.recordedBase64(response: true))),
                JSONMember("redirectURL", .string(response.headers.first(name: "Location") ?? "")),
                JSONMember("headersSize", .integer(Self.headSize(response))),
                JSONMember("bodySize", .integer(flow.responseBody.bodyBytes)),
            ]
        } else {
            responseMembers = [
                JSONMember("status", .integer(0)), JSONMember("statusText", .string("")),
                JSONMember("httpVersion", .string("")), JSONMember("cookies", .array([])),
                JSONMember("headers", .array([])),
                JSONMember("content", .object([JSONMember("size", .integer(0)), JSONMember("mimeType", .string("x-unknown"))])),
                JSONMember("redirectURL", .string("")), JSONMember("headersSize", .integer(-1)),
                JSONMember("bodySize", .integer(-1)),
            ]
        }
        if let error = flow.error { responseMembers.append(JSONMember("_error", .string("\(error.kind): \(error.message)"))) }

        let (timings, total) = Self.timings(flow.timings, start: start)
        var members = [
            JSONMember("startedDateTime", .string(HARTime.format(start))),
            JSONMember("time", .milliseconds(total)),
            JSONMember("request", .object(requestMembers)),
            JSONMember("response", .object(responseMembers)),
            JSONMember("cache", .object([])),
            JSONMember("timings", timings),
        ]
        if let ip = Self.ipAddress(flow.serverAddress) { members.append(JSONMember("serverIPAddress", .string(ip))) }
        members.append(JSONMember("connection", .string(String(flow.connection.rawValue))))
        members.append(JSONMember("_flowId", .integer(flow.id.rawValue)))
        if flow.kind == .websocket {
            members.append(JSONMember("_resourceType", .string("websocket")))
            members.append(JSONMember("_webSocketMessages", .array(messages(flow).map(Self.webSocketMessage))))
        }
        if let call = try grpcCalls.view(of: flow), case .object(var summary) = call.summaryJSON {
            summary += [JSONMember("trailers", call.trailers.map(GRPCCallView.fieldsJSON) ?? .null),
                        JSONMember("statusDetails", call.statusDetails ?? .null),
                        JSONMember("notes", .array(call.notes.map(JSONValue.string)))]
            members.append(JSONMember("_grpc", .object(summary)))
            members.append(JSONMember("_grpcMessages", .array(call.messages.map(GRPCCallView.messageJSON))))
        }
        return recorded?.applied(to: .object(members)) ?? .object(members)
    }

    static func headers(_ headers: HTTPHeaders) -> [JSONValue] {
        headers.map { .object([JSONMember("name", .string($0.name)), JSONMember("value", .string($0.value))]) }
    }

    /// Bytes of an HTTP/1 head as serialized (start line, fields, CRLFs); -1 for HTTP/2 and later.
    static func headSize(_ request: HTTPRequestHead) -> Int {
        guard request.version.major < 2 else { return -1 }
        return request.method.utf8.count + 1 + request.target.utf8.count + 1 + request.version.description.utf8.count + 2
            + fieldsSize(request.headers) + 2
    }

    static func headSize(_ response: HTTPResponseHead) -> Int {
        guard response.version.major < 2 else { return -1 }
        return response.version.description.utf8.count + 1 + 3 + 1 + response.reason.utf8.count + 2
            + fieldsSize(response.headers) + 2
    }

    private static func fieldsSize(_ headers: HTTPHeaders) -> Int {
        headers.reduce(0) { $0 + $1.name.utf8.count + 2 + $1.value.utf8.count + 2 }
    }

    /// `base64`: how the imported entry wrote this body (true: base64, false: text), nil
    /// when it was not imported; text is written only where it is faithful (`bodyText`).
    private func postData(_ headers: HTTPHeaders, _ body: LoadedBody, base64: Bool?) -> JSONValue {
        let mimeType = headers.first(name: "Content-Type") ?? ""
        let type = MediaType(mimeType)
        var members = [JSONMember("mimeType", .string(mimeType))]
        if let text = Self.bodyText(body, type: type, base64: base64) {
            members.append(JSONMember("text", .string(text)))
            if type?.isFormURLEncoded == true {
                members.append(JSONMember("params", .array(PercentEncoding.formPairs(text[...]).map {
                    .object([JSONMember("name", .string($0.name)), JSONMember("value", .string($0.value ?? ""))])
                })))
            } else if let type, type.isMultipartForm, let boundary = type.parameter("boundary"),
                      let parts = MultipartParser.parse(body.bytes, boundary: boundary) {
                members.append(JSONMember("params", .array(parts.map { part in
                    var entry = [JSONMember("name", .string(part.name))]
                    if let fileName = part.fileName {
                        entry.append(JSONMember("fileName", .string(fileName)))
                        if let contentType = part.contentType { entry.append(JSONMember("contentType", .string(contentType))) }
                    } else {
                        entry.append(JSONMember("value", .string(String(decoding: part.body, as: UTF8.self))))
                    }
                    return .object(entry)
                })))
            }
        } else {
            members.append(JSONMember("text", .string(Data(body.bytes).base64EncodedString())))
            members.append(JSONMember("encoding", .string("base64")))
        }
        if let note = body.note { members.append(JSONMember("comment", .string(note))) }
        return .object(members)
    }

    /// `size` is the whole body's: a body cut at the export limit (or by the capture) says
    /// so in `comment` and keeps its full size, not the size of the part shown.
    private func content(_ headers: HTTPHeaders, _ body: LoadedBody, base64: Bool?) -> JSONValue {
        let size = body.complete || body.decoded ? body.bytes.count : max(body.bytes.count, Int(body.wireSize))
        var members = [JSONMember("size", .integer(size))]
        if body.decoded { members.append(JSONMember("compression", .integer(body.bytes.count - Int(body.wireSize)))) }
        members.append(JSONMember("mimeType", .string(headers.first(name: "Content-Type") ?? "")))
        if !body.bytes.isEmpty {
            if let text = Self.bodyText(body, type: MediaType(headers.first(name: "Content-Type")), base64: base64) {
                members.append(JSONMember("text", .string(text)))
            } else {
                members.append(JSONMember("text", .string(Data(body.bytes).base64EncodedString())))
                members.append(JSONMember("encoding", .string("base64")))
            }
        }
        if let note = body.note { members.append(JSONMember("comment", .string(note))) }
        return .object(members)
    }

    /// The body as HAR `text`, or nil to write it as base64: as the imported entry had it
    /// when `base64` says (text only if valid UTF-8), else text where that is faithful
    /// (`LoadedBody.text(declaredTextual:)`).
    static func bodyText(_ body: LoadedBody, type: MediaType?, base64: Bool?) -> String? {
        switch base64 {
        case true?: return nil
        case false?: return body.utf8Text
        case nil: return body.text(declaredTextual: type?.isTextual == true)
        }
    }

    /// HAR timings and their total (see the type's invariant).
    static func timings(_ t: FlowTimings, start: Timestamp) -> (JSONValue, Double) {
        func span(_ from: Timestamp?, _ to: Timestamp?) -> Double? {
            guard let from, let to else { return nil }
            return max(0, from.milliseconds(to: to))
        }
        let dns = span(t.dnsStart, t.dnsEnd)
        let connect = t.connectStart.flatMap { span($0, t.tlsEnd ?? t.connectEnd ?? $0) }
        let ssl = span(t.tlsStart, t.tlsEnd)
        let setupStart = t.dnsStart ?? t.connectStart
        let blocked = span(start, setupStart) ?? 0
        let sendStart = t.tlsEnd ?? t.connectEnd ?? t.dnsEnd ?? Timestamp(microseconds: start.microseconds + Int64((blocked * 1000).rounded()))
        let send = span(sendStart, t.requestSent) ?? 0
        let waitStart = t.requestSent ?? sendStart
        let wait = span(waitStart, t.firstResponseByte)
        let receive = span(t.firstResponseByte ?? waitStart, t.done) ?? 0
        let total = blocked + (dns ?? 0) + (connect ?? 0) + send + (wait ?? 0) + receive
        let value = JSONValue.object([
            JSONMember("blocked", .milliseconds(blocked)),
            JSONMember("dns", .milliseconds(dns ?? -1)),
            JSONMember("connect", .milliseconds(connect ?? -1)),
            JSONMember("send", .milliseconds(send)),
            JSONMember("wait", .milliseconds(wait ?? -1)),
            JSONMember("receive", .milliseconds(receive)),
            JSONMember("ssl", .milliseconds(ssl ?? -1)),
        ])
        return (value, total)
    }

    /// `1.2.3.4:80` -> `1.2.3.4`, `[::1]:443` -> `::1`, `[fe80::1%eth0]:80` -> `fe80::1%eth0`
    /// (RFC 4007 zone id kept); nil for host names or anything else.
    static func ipAddress(_ address: String?) -> String? {
        guard let address else { return nil }
        var host = address[...]
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            host = host[host.index(after: host.startIndex)..<close]
            let parts = host.split(separator: "%", maxSplits: 1, omittingEmptySubsequences: false)
            let zoneIsValid = parts.count == 1 || (!parts[1].isEmpty && parts[1].allSatisfy { $0.isLetter || $0.isNumber || "._-".contains($0) })
            return parts[0].allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." } && parts[0].contains(":") && zoneIsValid
                ? String(host) : nil
        }
        if let colon = host.lastIndex(of: ":") { host = host[..<colon] }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets.allSatisfy({ !$0.isEmpty && $0.count <= 3 && (UInt8($0) != nil) }) else { return nil }
        return String(host)
    }

    /// Chrome's shape: `{type send|receive, time epoch-seconds, opcode, data}` (binary data base64),
    /// plus `_tapline: {truncated, size, reason}` when `data` is not the whole message.
    static func webSocketMessage(_ message: FlowMessage) -> JSONValue {
        let opcode: Int
        switch message.type {
        case "text": opcode = 1
        case "binary": opcode = 2
        case "close": opcode = 8
        case "ping": opcode = 9
        case "pong": opcode = 10
        default: opcode = 1
        }
        var members = [JSONMember("type", .string(message.fromClient ? "send" : "receive"))]
        if let time = message.time {
            members.append(JSONMember("time", .number(String(format: "%.6f", Double(time.microseconds) / 1_000_000))))
        }
        members.append(JSONMember("opcode", .integer(opcode)))
        let text = opcode == 1 ? message.text : nil
        members.append(JSONMember("data", .string(text ?? Data(message.payload).base64EncodedString())))
        if let marker = message.truncationMarker { members.append(JSONMember("_tapline", .object(marker))) }
        return .object(members)
    }
}
