import TaplineWire

/// Makes a Postman request `body` from a captured request body, choosing the
/// mode by Content-Type (docs/export.md, "Bodies"):
/// JSON -> raw/json (pretty-printed), GraphQL (application/graphql, or JSON
/// with a `query` string on a path containing `graphql`) -> graphql, XML ->
/// raw/xml, other text -> raw/text, urlencoded -> urlencoded, multipart ->
/// formdata (file parts as file entries), anything else -> file mode with the
/// bytes written beside the collection, or left out with a note.
/// Secret fields are redacted when `redact` is set. Used by one export at a time.
struct PostmanBodyBuilder {
    let rules: RedactionRules
    let redact: Bool
    let binaryDirectory: String?

    /// The body and an optional note for the request's description.
    func body(headers: HTTPHeaders, loaded: LoadedBody, path: String, registry: inout SecretRegistry,
              files: inout [String: [UInt8]]) -> (body: JSONValue?, note: String?) {
        guard !loaded.bytes.isEmpty else { return (nil, loaded.note) }
        let type = MediaType(headers.first(name: "Content-Type"))
        var note = loaded.note
        if let type, type.isGraphQL, type.essence == "application/graphql", let text = loaded.utf8Text {
            return (graphQL(query: text, variables: nil), note)
        }
        if let type, type.isFormURLEncoded, let text = loaded.utf8Text {
            let pairs = PercentEncoding.formPairs(text[...]).map { pair -> JSONValue in
                .object([JSONMember("key", .string(pair.name)),
                         JSONMember("value", .string(secretValue(pair.value ?? "", name: pair.name, registry: &registry))),
                         JSONMember("type", .string("text"))])
            }
            return (.object([JSONMember("mode", .string("urlencoded")), JSONMember("urlencoded", .array(pairs))]), note)
        }
        if let type, type.isMultipartForm, let boundary = type.parameter("boundary"),
           let parts = MultipartParser.parse(loaded.bytes, boundary: boundary) {
            let entries = parts.map { part -> JSONValue in
                if let fileName = part.fileName {
                    var members = [JSONMember("key", .string(part.name)), JSONMember("type", .string("file")),
                                   JSONMember("src", .string(fileName))]
                    if let contentType = part.contentType { members.append(JSONMember("contentType", .string(contentType))) }
                    return .object(members)
                }
                let value = String(decoding: part.body, as: UTF8.self)
                var members = [JSONMember("key", .string(part.name)),
                               JSONMember("value", .string(secretValue(value, name: part.name, registry: &registry))),
                               JSONMember("type", .string("text"))]
                if let contentType = part.contentType { members.append(JSONMember("contentType", .string(contentType))) }
                return .object(members)
            }
            return (.object([JSONMember("mode", .string("formdata")), JSONMember("formdata", .array(entries))]), note)
        }
        if let text = loaded.utf8Text, type == nil || type?.isTextual == true {
            if type?.isJSON == true || (type == nil && text.first.map { $0 == "{" || $0 == "[" } == true),
               let json = try? JSONParser.parse(loaded.bytes) {
                let clean = redact ? JSONRedactor.redact(json, rules: rules, registry: &registry) : json
                if path.lowercased().contains("graphql"), let query = clean["query"]?.stringValue {
                    return (graphQL(query: query, variables: clean["variables"]), note)
                }
                return (raw(JSONWriter.text(clean, indent: "    "), language: "json"), note)
            }
            let language = type?.isXML == true ? "xml" : type?.isHTML == true ? "html"
                : type?.isJavaScript == true ? "javascript" : "text"
            return (raw(text, language: language), note)
        }
        // Binary: the bytes go beside the collection, or are left out.
        let size = loaded.bytes.count
        let described = "\(size) bytes of \(type?.essence ?? "binary data")"
        guard let binaryDirectory else {
            note = (note.map { $0 + "; " } ?? "") + "request body left out (\(described), --no-binary)"
            return (nil, note)
        }
        let name = binaryDirectory + "/" + StableID.uuid(bytes: loaded.bytes) + ".bin"
        files[name] = loaded.bytes
        note = (note.map { $0 + "; " } ?? "") + "request body: \(described) in \(name)"
        return (.object([JSONMember("mode", .string("file")),
                         JSONMember("file", .object([JSONMember("src", .string(name))]))]), note)
    }

    /// Body modes whose bytes Postman builds from fields, setting Content-Type
    /// itself (for `formdata` with a boundary of its own).
    static let structuredModes: Set<String> = ["formdata", "urlencoded", "graphql"]

    /// Header entries to send with `body`: when its mode is structured, without
    /// Content-Type and Content-Length, whose captured values (a multipart
    /// boundary, the original length) do not match the body Postman builds.
    static func headers(_ entries: [JSONValue], for body: JSONValue?) -> [JSONValue] {
        guard let mode = body?["mode"]?.stringValue, structuredModes.contains(mode) else { return entries }
        return entries.filter { entry in
            let name = entry["key"]?.stringValue?.lowercased()
            return name != "content-type" && name != "content-length"
        }
    }

    private func secretValue(_ value: String, name: String, registry: inout SecretRegistry) -> String {
        guard redact, rules.isSecretBodyField(name) || rules.isSecretQueryParameter(name) else { return value }
        return registry.record(value, as: EndpointNormalizer.camelCase(name))
    }

    private func raw(_ text: String, language: String) -> JSONValue {
        .object([JSONMember("mode", .string("raw")), JSONMember("raw", .string(text)),
                 JSONMember("options", .object([JSONMember("raw", .object([JSONMember("language", .string(language))]))]))])
    }

    private func graphQL(query: String, variables: JSONValue?) -> JSONValue {
        var variablesText = ""
        if let variables, !variables.isNull { variablesText = JSONWriter.text(variables, indent: "    ") }
        return .object([JSONMember("mode", .string("graphql")),
                        JSONMember("graphql", .object([JSONMember("query", .string(query)),
                                                        JSONMember("variables", .string(variablesText))]))])
    }
}
