import TaplineWire

/// A `Content-Type` value taken apart: `application/json; charset=utf-8` ->
/// type `application`, subtype `json`, parameters. Lowercased type and
/// subtype; parameter names lowercased, values unquoted. A value type.
public struct MediaType: Sendable, Equatable {
    public var type: String
    public var subtype: String
    public var parameters: [(name: String, value: String)]

    public static func == (a: MediaType, b: MediaType) -> Bool {
        a.type == b.type && a.subtype == b.subtype
            && a.parameters.elementsEqual(b.parameters) { $0.name == $1.name && $0.value == $1.value }
    }

    /// `type/subtype`.
    public var essence: String { "\(type)/\(subtype)" }

    public init?(_ text: String?) {
        guard let text else { return nil }
        let pieces = text.split(separator: ";")
        guard let first = pieces.first else { return nil }
        let essence = first.trimmed.lowercased()
        let halves = essence.split(separator: "/", maxSplits: 1)
        guard halves.count == 2, !halves[0].isEmpty, !halves[1].isEmpty else { return nil }
        type = String(halves[0])
        subtype = String(halves[1])
        parameters = pieces.dropFirst().compactMap { piece in
            guard let equals = piece.firstIndex(of: "=") else { return nil }
            var value = piece[piece.index(after: equals)...].trimmed
            if value.count >= 2 && value.hasPrefix("\"") && value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            return (piece[..<equals].trimmed.lowercased(), value)
        }
    }

    public func parameter(_ name: String) -> String? {
        parameters.first { $0.name == name }?.value
    }

    public var isJSON: Bool { subtype == "json" || subtype.hasSuffix("+json") || essence == "text/json" }
    public var isXML: Bool { subtype == "xml" || subtype.hasSuffix("+xml") }
    public var isHTML: Bool { essence == "text/html" }
    public var isJavaScript: Bool { subtype == "javascript" || subtype == "x-javascript" || subtype == "ecmascript" }
    public var isFormURLEncoded: Bool { essence == "application/x-www-form-urlencoded" }
    public var isMultipartForm: Bool { type == "multipart" }
    public var isGraphQL: Bool { essence == "application/graphql" || subtype == "graphql+json" }
    /// Text a person can read: text/*, JSON, XML, JavaScript, forms, GraphQL.
    public var isTextual: Bool {
        type == "text" || isJSON || isXML || isJavaScript || isFormURLEncoded || isGraphQL
            || subtype == "x-ndjson" || subtype == "yaml" || subtype == "x-yaml" || subtype == "csv"
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs. (Not through `reversed()`: a `String`
    /// built from a reversed view goes character by character, and a replay parses a
    /// `Content-Type` or two per flow: it took a sixth of its CPU time.)
    var trimmed: String { String(trimmingASCIIWhitespace()) }
}
