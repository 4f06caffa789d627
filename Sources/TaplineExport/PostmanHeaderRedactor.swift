import Foundation
import TaplineWire

/// Turns captured request or response headers into Postman header entries:
/// drops what Postman sets itself (Host, Content-Length, hop-by-hop fields,
/// HTTP/2 pseudo-headers) and, when redacting, replaces secrets with
/// `{{variables}}`:
/// - `Authorization: Bearer T` -> `auth` bearer with `{{bearerToken}}`;
///   `Basic` -> basic auth with `{{username}}`/`{{password}}`; other schemes
///   -> the header with `{{authorization}}`;
/// - `Cookie` -> each cookie's value as `{{cookieName}}`; `Set-Cookie` -> the
///   value as `{{cookieName}}`, attributes kept;
/// - API-key headers (`RedactionRules.headers`) -> `{{headerName}}`.
struct PostmanHeaderRedactor {
    let rules: RedactionRules
    let redact: Bool

    static let dropped: Set<String> = [
        "host", "content-length", "connection", "keep-alive", "transfer-encoding", "te", "trailer",
        "proxy-connection", "upgrade", "http2-settings",
    ]
    static let droppedWebSocket: Set<String> = [
        "sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "sec-websocket-accept",
    ]

    /// Header entries and the request's `auth` object, if the Authorization header became one.
    func request(_ headers: HTTPHeaders, registry: inout SecretRegistry) -> (headers: [JSONValue], auth: JSONValue?) {
        var entries: [JSONValue] = []
        var auth: JSONValue?
        for field in headers {
            let name = field.name.lowercased()
            if name.hasPrefix(":") || Self.dropped.contains(name) || Self.droppedWebSocket.contains(name) { continue }
            guard redact else {
                entries.append(Self.entry(field.name, field.value))
                continue
            }
            if name == "authorization" || name == "proxy-authorization" {
                if name == "authorization", auth == nil, let converted = authObject(field.value, registry: &registry) {
                    auth = converted
                } else {
                    let variable = name == "authorization" ? "authorization" : "proxyAuthorization"
                    entries.append(Self.entry(field.name, registry.record(field.value, as: variable)))
                }
            } else if name == "cookie" {
                entries.append(Self.entry(field.name, cookieHeader(field.value, registry: &registry)))
            } else if rules.isSecretHeader(name) {
                entries.append(Self.entry(field.name, registry.record(field.value, as: EndpointNormalizer.camelCase(name))))
            } else {
                entries.append(Self.entry(field.name, field.value))
            }
        }
        return (entries, auth)
    }

    /// Response header entries. A decoded body drops Content-Encoding; a body
    /// shown other than exactly as received (`bodyVerbatim` false: decoded,
    /// pretty-printed, redacted, cut short or left out) drops Content-Length.
    func response(_ headers: HTTPHeaders, bodyDecoded: Bool, bodyVerbatim: Bool,
                  registry: inout SecretRegistry) -> [JSONValue] {
        var entries: [JSONValue] = []
        for field in headers {
            let name = field.name.lowercased()
            if name.hasPrefix(":") || name == "transfer-encoding" || name == "connection" || name == "keep-alive" { continue }
            if bodyDecoded && name == "content-encoding" { continue }
            if !bodyVerbatim && name == "content-length" { continue }
            guard redact else {
                entries.append(Self.entry(field.name, field.value))
                continue
            }
            if name == "set-cookie" {
                entries.append(Self.entry(field.name, setCookie(field.value, registry: &registry)))
            } else if rules.isSecretHeader(name) {
                entries.append(Self.entry(field.name, registry.record(field.value, as: EndpointNormalizer.camelCase(name))))
            } else {
                entries.append(Self.entry(field.name, field.value))
            }
        }
        return entries
    }

    static func entry(_ key: String, _ value: String) -> JSONValue {
        .object([JSONMember("key", .string(key)), JSONMember("value", .string(value))])
    }

    private func authObject(_ value: String, registry: inout SecretRegistry) -> JSONValue? {
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        let scheme = parts[0].lowercased()
        let credentials = String(parts[1]).trimmingCharacters(in: .whitespaces)
        if scheme == "bearer" {
            let token = registry.record(credentials, as: "bearerToken")
            registry.record(value, as: "bearerToken")
            return .object([JSONMember("type", .string("bearer")),
                            JSONMember("bearer", .array([Self.attribute("token", token)]))])
        }
        if scheme == "basic" {
            registry.record(credentials, as: "basicCredentials")
            var user = "", password = ""
            if let data = Data(base64Encoded: credentials), let decoded = String(data: data, encoding: .utf8) {
                if let colon = decoded.firstIndex(of: ":") {
                    user = String(decoded[..<colon])
                    password = String(decoded[decoded.index(after: colon)...])
                } else {
                    user = decoded
                }
            }
            return .object([JSONMember("type", .string("basic")),
                            JSONMember("basic", .array([Self.attribute("username", registry.record(user, as: "username")),
                                                        Self.attribute("password", registry.record(password, as: "password"))]))])
        }
        return nil
    }

    private static func attribute(_ key: String, _ value: String) -> JSONValue {
        .object([JSONMember("key", .string(key)), JSONMember("value", .string(value)), JSONMember("type", .string("string"))])
    }

    /// `a=1; b=2` -> `a={{cookieA}}; b={{cookieB}}`.
    private func cookieHeader(_ value: String, registry: inout SecretRegistry) -> String {
        value.split(separator: ";").map { pair -> String in
            let text = pair.trimmed
            guard let equals = text.firstIndex(of: "=") else { return text }
            let name = String(text[..<equals])
            let cookieValue = String(text[text.index(after: equals)...])
            return name + "=" + registry.record(cookieValue, as: Self.cookieVariable(name))
        }.joined(separator: "; ")
    }

    /// `sid=abc; Path=/; HttpOnly` -> `sid={{cookieSid}}; Path=/; HttpOnly`.
    private func setCookie(_ value: String, registry: inout SecretRegistry) -> String {
        var pieces = value.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
        guard let first = pieces.first, let equals = first.firstIndex(of: "=") else { return value }
        let name = first[..<equals].trimmed
        let cookieValue = String(first[first.index(after: equals)...]).trimmingCharacters(in: .whitespaces)
        pieces[0] = name + "=" + registry.record(cookieValue, as: Self.cookieVariable(name))
        return pieces.joined(separator: ";")
    }

    static func cookieVariable(_ name: String) -> String {
        let camel = EndpointNormalizer.camelCase(name)
        return "cookie" + camel.prefix(1).uppercased() + camel.dropFirst()
    }
}
