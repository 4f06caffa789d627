/// One element of a `Sec-WebSocket-Extensions` field (RFC 6455 §9.1): an extension
/// name with its parameters in order, e.g. `permessage-deflate; client_max_window_bits`.
public struct WebSocketExtension: Sendable, Equatable {
    public struct Parameter: Sendable, Equatable {
        /// Lowercased.
        public var name: String
        /// Nil for a parameter without `=value`; quotes removed.
        public var value: String?

        public init(name: String, value: String?) {
            self.name = name
            self.value = value
        }
    }

    /// Lowercased.
    public var name: String
    public var parameters: [Parameter]

    public init(name: String, parameters: [Parameter] = []) {
        self.name = name
        self.parameters = parameters
    }

    /// Parses every `Sec-WebSocket-Extensions` field value, in order.
    /// - Throws: `malformedExtensions` for empty names, bad tokens or an unterminated quote.
    public static func parse(_ values: [String]) throws(WebSocketHandshakeError) -> [WebSocketExtension] {
        var result: [WebSocketExtension] = []
        for value in values {
            for element in try split(value, on: ",") {
                let parts = try split(element, on: ";")
                guard let first = parts.first else { continue }
                let name = trim(first).lowercased()
                if name.isEmpty, parts.count == 1 { continue }  // empty list element
                guard isToken(name) else { throw .malformedExtensions("bad extension name \(String(reflecting: name))") }
                var parameters: [Parameter] = []
                for part in parts.dropFirst() {
                    let text = trim(part)
                    if let equals = text.firstIndex(of: "=") {
                        let key = trim(text[..<equals]).lowercased()
                        var raw = trim(text[text.index(after: equals)...])
                        if raw.hasPrefix("\"") {
                            guard raw.count >= 2, raw.hasSuffix("\"") else {
                                throw .malformedExtensions("unterminated quoted value in \(String(reflecting: text))")
                            }
                            raw = String(raw.dropFirst().dropLast()).replacingBackslashEscapes()
                        }
                        guard isToken(key), isToken(raw) else {
                            throw .malformedExtensions("bad parameter \(String(reflecting: text))")
                        }
                        parameters.append(Parameter(name: key, value: raw))
                    } else {
                        let key = text.lowercased()
                        guard isToken(key) else { throw .malformedExtensions("bad parameter \(String(reflecting: text))") }
                        parameters.append(Parameter(name: key, value: nil))
                    }
                }
                result.append(WebSocketExtension(name: name, parameters: parameters))
            }
        }
        return result
    }

    /// The element as it would appear in the field: `name; p1; p2=v`.
    public var headerValue: String {
        ([name] + parameters.map { parameter in
            parameter.value.map { "\(parameter.name)=\($0)" } ?? parameter.name
        }).joined(separator: "; ")
    }

    /// Splits on `separator` outside double quotes.
    private static func split(_ text: String, on separator: Character) throws(WebSocketHandshakeError) -> [String] {
        var parts: [String] = []
        var current = ""
        var quoted = false, escaped = false
        for c in text {
            if escaped { escaped = false; current.append(c); continue }
            if quoted, c == "\\" { escaped = true; current.append(c); continue }
            if c == "\"" { quoted.toggle() }
            if c == separator, !quoted {
                parts.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        if quoted { throw .malformedExtensions("unterminated quote in \(String(reflecting: text))") }
        parts.append(current)
        return parts
    }

    private static func trim(_ text: some StringProtocol) -> String {
        String(Substring(text).trimmingASCIIWhitespace())
    }

    /// RFC 9110 token characters.
    private static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { HTTP1ByteClass.isToken($0) }
    }
}

extension String {
    /// `\x` becomes `x` (quoted-pair, RFC 9110 §5.6.4).
    fileprivate func replacingBackslashEscapes() -> String {
        var out = ""
        var escaped = false
        for c in self {
            if escaped || c != "\\" {
                out.append(c)
                escaped = false
            } else {
                escaped = true
            }
        }
        return out
    }
}
