import Foundation
import TaplineCapture
import TaplineWire

/// Builds the `_tapline` vendor extension of a Postman item for flows that
/// Postman Collection v2.1 cannot express: WebSocket sessions and gRPC calls
/// (docs/export.md, "The `_tapline` extension"). Its shape:
///
/// ```
/// "_tapline": {
///   "version": 1,
///   "protocol": "websocket" | "grpc",
///   "url": "wss://host/path",
///   "subprotocol": "chat",                      (WebSocket, when negotiated)
///   "handshakeProtocol": "h2",                  (WebSocket opened by an HTTP/2 extended CONNECT, RFC 8441;
///                                                absent for an HTTP/1.1 Upgrade)
///   "service": "pkg.Service", "method": "Get", "kind": "unary", "kindInferred": false,  (gRPC)
///   "handshake": {"request": {"headers": [...]}, "response": {"status": 101, "headers": [...]}},
///   "messages": [{"direction": "send"|"receive", "type": "text"|"binary"|"ping"|"pong"|"close"|"message",
///                 "data": "...", "encoding": "base64" (binary only), "time": ms since the first message,
///                 "truncated": true, "size": N, "reason": "capped" (when data is not the whole message);
///                 gRPC: "data" is the message's JSON text, "decoding": "schema"|"raw"|"json", "messageType",
///                 or no "data" and a "reason"}],
///   "trailers": [...], "status": {"code": 0, "message": ""}, "statusDetails": {...}  (gRPC)
/// }
/// ```
/// Header lists use Postman's `{key, value}` entries, already redacted.
/// Message data is redacted like bodies (secret JSON fields). Pure apart from the registry.
enum TaplineExtension {
    static func webSocket(url: String, requestHeaders: [JSONValue], response: (status: Int, headers: [JSONValue])?,
                          subprotocol: String?, handshakeProtocol: String? = nil,
                          messages: [FlowMessage], rules: RedactionRules, redact: Bool,
                          registry: inout SecretRegistry) -> JSONValue {
        var members = [JSONMember("version", .integer(1)), JSONMember("protocol", .string("websocket")),
                       JSONMember("url", .string(url))]
        if let subprotocol { members.append(JSONMember("subprotocol", .string(subprotocol))) }
        if let handshakeProtocol { members.append(JSONMember("handshakeProtocol", .string(handshakeProtocol))) }
        var handshake = [JSONMember("request", .object([JSONMember("headers", .array(requestHeaders))]))]
        if let response {
            handshake.append(JSONMember("response", .object([JSONMember("status", .integer(response.status)),
                                                              JSONMember("headers", .array(response.headers))])))
        }
        members.append(JSONMember("handshake", .object(handshake)))
        let first = messages.first?.time
        members.append(JSONMember("messages", .array(messages.map { message in
            var entry = [JSONMember("direction", .string(message.fromClient ? "send" : "receive")),
                         JSONMember("type", .string(message.type))]
            if message.type != "binary", let text = message.text {
                var data = text
                if redact, let json = try? JSONParser.parse(message.payload), json.objectMembers != nil || json.arrayValue != nil {
                    data = JSONWriter.text(JSONRedactor.redact(json, rules: rules, registry: &registry), indent: nil)
                }
                entry.append(JSONMember("data", .string(data)))
            } else {
                entry.append(JSONMember("data", .string(Data(message.payload).base64EncodedString())))
                entry.append(JSONMember("encoding", .string("base64")))
            }
            if let time = message.time, let first {
                entry.append(JSONMember("time", .milliseconds(first.milliseconds(to: time))))
            }
            entry += message.truncationMarker ?? []
            return .object(entry)
        })))
        return .object(members)
    }

    static func grpc(url: String, call: GRPCCallView, requestHeaders: [JSONValue], response: (status: Int, headers: [JSONValue])?,
                     trailers: [JSONValue]?, rules: RedactionRules, redact: Bool, registry: inout SecretRegistry) -> JSONValue {
        var members = [JSONMember("version", .integer(1)), JSONMember("protocol", .string("grpc")),
                       JSONMember("url", .string(url)), JSONMember("service", .string(call.service)),
                       JSONMember("method", .string(call.method)), JSONMember("kind", .string(call.kind.rawValue)),
                       JSONMember("kindInferred", .bool(call.kindIsInferred))]
        var handshake = [JSONMember("request", .object([JSONMember("headers", .array(requestHeaders))]))]
        if let response {
            handshake.append(JSONMember("response", .object([JSONMember("status", .integer(response.status)),
                                                              JSONMember("headers", .array(response.headers))])))
        }
        members.append(JSONMember("handshake", .object(handshake)))
        let first = call.messages.compactMap(\.time).min()
        members.append(JSONMember("messages", .array(call.messages.map { message in
            var entry = [JSONMember("direction", .string(message.direction == .request ? "send" : "receive")),
                         JSONMember("type", .string("message"))]
            func data(_ value: JSONValue, decoding: String) {
                let shown = redact ? JSONRedactor.redact(value, rules: rules, registry: &registry) : value
                entry += [JSONMember("data", .string(JSONWriter.text(shown, indent: nil))), JSONMember("decoding", .string(decoding))]
            }
            switch message.content {
            case .decoded(let value, let typeName):
                data(value, decoding: "schema")
                entry.append(JSONMember("messageType", .string(typeName)))
            case .raw(let value, _): data(value, decoding: "raw")
            case .json(let value): data(value, decoding: "json")
            case .notDecoded(let reason): entry.append(JSONMember("reason", .string(reason)))
            case .incomplete(let stored, let declared):
                entry += [JSONMember("truncated", .bool(true)), JSONMember("size", declared.map { .integer($0) } ?? .null),
                          JSONMember("reason", .string("the capture holds \(stored) bytes of it"))]
            }
            if let time = message.time, let first { entry.append(JSONMember("time", .milliseconds(first.milliseconds(to: time)))) }
            return .object(entry)
        })))
        members.append(JSONMember("trailers", trailers.map { .array($0) } ?? .null))
        members.append(JSONMember("status", call.status.map {
            .object([JSONMember("code", .integer($0.code)), JSONMember("message", .string($0.message))])
        } ?? .null))
        if let details = call.statusDetails { members.append(JSONMember("statusDetails", details)) }
        return .object(members)
    }
}
