import TaplineWire

/// HAR `cookies` arrays from `Cookie` and `Set-Cookie` headers. Pure.
enum HARCookies {
    /// `Cookie: a=1; b=2` -> `[{name a, value 1}, {name b, value 2}]`.
    static func request(_ headers: HTTPHeaders) -> [JSONValue] {
        headers.values(name: "Cookie").flatMap { value in
            value.split(separator: ";").compactMap { pair -> JSONValue? in
                let text = pair.trimmed
                guard !text.isEmpty else { return nil }
                let equals = text.firstIndex(of: "=")
                let name = equals.map { String(text[..<$0]) } ?? ""
                let cookieValue = equals.map { String(text[text.index(after: $0)...]) } ?? text
                return .object([JSONMember("name", .string(name)), JSONMember("value", .string(cookieValue))])
            }
        }
    }

    /// Each `Set-Cookie` with its attributes (path, domain, expires as ISO 8601, httpOnly, secure, sameSite).
    static func response(_ headers: HTTPHeaders) -> [JSONValue] {
        headers.values(name: "Set-Cookie").compactMap { value -> JSONValue? in
            let pieces = value.split(separator: ";")
            guard let first = pieces.first, let equals = first.firstIndex(of: "=") else { return nil }
            var members = [JSONMember("name", .string(first[..<equals].trimmed)),
                           JSONMember("value", .string(first[first.index(after: equals)...].trimmed))]
            for attribute in pieces.dropFirst() {
                let parts = attribute.split(separator: "=", maxSplits: 1)
                let key = parts.first.map { $0.trimmed.lowercased() } ?? ""
                let text = parts.count > 1 ? parts[1].trimmed : ""
                switch key {
                case "path": members.append(JSONMember("path", .string(text)))
                case "domain": members.append(JSONMember("domain", .string(text)))
                case "expires": if let iso = HARTime.isoFromHTTPDate(text) { members.append(JSONMember("expires", .string(iso))) }
                case "httponly": members.append(JSONMember("httpOnly", .bool(true)))
                case "secure": members.append(JSONMember("secure", .bool(true)))
                case "samesite": members.append(JSONMember("sameSite", .string(text)))
                default: break
                }
            }
            return .object(members)
        }
    }
}
