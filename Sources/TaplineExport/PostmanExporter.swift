import TaplineCapture
import TaplineFlow
import TaplineWire

/// Builds a Postman Collection v2.1 from captured flows (docs/export.md):
/// flows with the same method, origin and path template become one request
/// (`EndpointNormalizer`), arranged in folders (`PostmanGrouping`), with one
/// `{{baseUrl}}`-style variable per origin, saved examples per distinct status,
/// bodies in the right mode and secrets replaced by empty collection variables.
/// gRPC calls go into a top-level `gRPC` folder, one item per `pkg.Service/Method`,
/// their messages as JSON in the item's `_tapline` extension (`grpcCalls` decodes them).
///
/// Determinism: the output depends only on the flows and options given, in
/// order: ids are `StableID`s of content, nothing reads clocks or randomness,
/// and JSON is written by `JSONWriter`. Runs on the caller's thread.
public struct PostmanExporter {
    public let options: PostmanExportOptions
    public let messages: @Sendable (CapturedFlow) -> [FlowMessage]
    /// Reads gRPC calls as messages; give it the schema to have them decoded by type.
    public var grpcCalls = GRPCCallReader(decoder: GRPCCallDecoder(schema: nil))

    public init(options: PostmanExportOptions, messages: @escaping @Sendable (CapturedFlow) -> [FlowMessage] = FlowMessage.captured) {
        self.options = options
        self.messages = messages
    }

    /// Exports `sources` (session id and its selected flows, in order).
    /// - Throws: `capture` when a body cannot be read, `nothingToExport` when no flow qualifies.
    public func export(_ sources: [(session: String, flows: [CapturedFlow])]) throws(ExportError) -> PostmanExport {
        var candidates: [(session: String, flow: CapturedFlow, url: RequestURL)] = []
        var grpcCandidates: [(session: String, flow: CapturedFlow, url: RequestURL)] = []
        var skippedStatic = 0
        for source in sources {
            for flow in source.flows {
                guard ExportedRequest.isExported(flow), let url = RequestURL(flow: flow) else { continue }
                if !options.includeStatic && StaticAssetRule.isStatic(flow) {
                    skippedStatic += 1
                    continue
                }
                if GRPCCallDecoder.contentType(of: flow) != nil {
                    grpcCandidates.append((source.session, flow, url))
                    continue
                }
                candidates.append((source.session, flow, url))
            }
        }
        guard !candidates.isEmpty || !grpcCandidates.isEmpty else {
            throw .nothingToExport(skippedStatic > 0
                ? "only static assets (\(skippedStatic) flows) were selected; add --include-static to keep them"
                : "no HTTP or WebSocket flows with a request were selected")
        }

        let normalizer = EndpointNormalizer(cardinalityThreshold: options.cardinalityThreshold)
        var observed: [ObservedRequest] = []
        for candidate in candidates {
            observed.append(ObservedRequest(origin: candidate.url.origin, method: candidate.flow.request?.method ?? "GET",
                                            segments: candidate.url.segments, response: responseKind(candidate.flow)))
        }
        let templates = normalizer.templates(for: observed)
        var endpoints: [PostmanEndpoint] = []
        var index: [String: Int] = [:]
        var origins: [String] = []
        for (candidate, template) in zip(candidates, templates) {
            let method = ExportedRequest.replayMethod(candidate.flow)
            let key = PostmanEndpoint.key(method: method, origin: candidate.url.origin, template: template)
            if let position = index[key] {
                endpoints[position].flows.append(candidate)
            } else {
                index[key] = endpoints.count
                var endpoint = PostmanEndpoint(method: method, url: candidate.url, template: template)
                endpoint.flows.append(candidate)
                endpoints.append(endpoint)
            }
            if !origins.contains(candidate.url.origin) { origins.append(candidate.url.origin) }
        }
        // gRPC calls: one endpoint per origin and method, in first-seen order.
        var grpcEndpoints: [(key: String, calls: [(flow: CapturedFlow, url: RequestURL, call: GRPCCallView)])] = []
        for candidate in grpcCandidates {
            let call: GRPCCallView?
            do throws(CaptureError) {
                call = try grpcCalls.view(of: candidate.flow)
            } catch {
                throw .capture(error)
            }
            guard let call else { continue }
            let key = candidate.url.origin + " " + call.fullMethod
            if let position = grpcEndpoints.firstIndex(where: { $0.key == key }) {
                grpcEndpoints[position].calls.append((candidate.flow, candidate.url, call))
            } else {
                grpcEndpoints.append((key, [(candidate.flow, candidate.url, call)]))
            }
            if !origins.contains(candidate.url.origin) { origins.append(candidate.url.origin) }
        }

        var baseVariables: [String: String] = [:]
        for origin in origins {
            baseVariables[origin] = origins.count == 1 ? "baseUrl" : "baseUrl_" + Self.identifier(origin)
        }

        var registry = SecretRegistry()
        var files: [String: [UInt8]] = [:]
        var items: [(endpoint: PostmanEndpoint, item: JSONValue)] = []
        for endpoint in endpoints {
            let item = try makeItem(endpoint, baseVariable: baseVariables[endpoint.url.origin] ?? "baseUrl",
                                    registry: &registry, files: &files)
            items.append((endpoint, item))
        }
        var topLevel = group(items)
        if !grpcEndpoints.isEmpty {
            topLevel.append(Self.folder("gRPC", grpcEndpoints.map { endpoint in
                grpcItem(endpoint.calls, baseVariable: baseVariables[endpoint.calls[0].url.origin] ?? "baseUrl", registry: &registry)
            }))
        }

        var variables: [JSONValue] = origins.map { origin in
            .object([JSONMember("key", .string(baseVariables[origin] ?? "baseUrl")), JSONMember("value", .string(origin)),
                     JSONMember("type", .string("string"))])
        }
        for name in registry.variables {
            variables.append(.object([JSONMember("key", .string(name)), JSONMember("value", .string("")),
                                      JSONMember("type", .string("string")),
                                      JSONMember("description", .string("redacted by tapline export; set it to use the requests"))]))
        }

        let sessionIDs = sources.map(\.session)
        let name = options.name ?? "Tapline capture " + sessionIDs.joined(separator: ", ")
        let flowCount = candidates.count + grpcEndpoints.reduce(0) { $0 + $1.calls.count }
        let endpointCount = endpoints.count + grpcEndpoints.count
        var description = "Exported by tapline from capture session\(sessionIDs.count == 1 ? "" : "s") \(sessionIDs.joined(separator: ", ")): "
            + "\(flowCount) flow\(flowCount == 1 ? "" : "s"), \(endpointCount) endpoint\(endpointCount == 1 ? "" : "s")."
        if options.redact && !registry.isEmpty {
            description += " Secrets were replaced by collection variables (\(registry.variables.map { "{{\($0)}}" }.joined(separator: ", "))); set them before sending."
        }
        if skippedStatic > 0 { description += " \(skippedStatic) static asset request\(skippedStatic == 1 ? " was" : "s were") left out." }
        let info = JSONValue.object([
            JSONMember("_postman_id", .string(StableID.uuid(["collection"] + endpoints.map(\.key) + grpcEndpoints.map(\.key)))),
            JSONMember("name", .string(name)),
            JSONMember("description", .string(description)),
            JSONMember("schema", .string("https://schema.getpostman.com/json/collection/v2.1.0/collection.json")),
        ])
        var collection = JSONValue.object([
            JSONMember("info", info),
            JSONMember("item", .array(topLevel)),
            JSONMember("variable", .array(variables)),
        ])
        if options.redact { collection = registry.scrub(collection) }
        var text = JSONWriter.text(collection, indent: "\t")
        text += "\n"
        return PostmanExport(text: text, files: files, endpointCount: endpointCount, flowCount: flowCount,
                             secretVariables: options.redact ? registry.variables : [], warnings: [])
    }

    /// `4 of the messages are cut or empty in the capture (...). ` for a description, or "".
    private static func cutMessagesNote(_ messages: [FlowMessage]) -> String {
        let cut = messages.filter { $0.truncation != nil }.count
        guard cut > 0 else { return "" }
        return "\(cut) of the messages \(cut == 1 ? "is" : "are") cut or empty in the capture (marked \"truncated\" "
            + "with their whole size and the reason in _tapline.messages). "
    }

    /// The kind of `flow`'s response for `EndpointNormalizer`. Only JSON bodies are read,
    /// at most `ResponseKind.bodyLimit` bytes of them: a larger body (or one that decodes
    /// past it) is classified without its keys. A body that cannot be read (a damaged
    /// session) makes the kind unknown (nil), so the request is no evidence for the
    /// path-variable rule; whether the export fails is up to the flows it shows.
    private func responseKind(_ flow: CapturedFlow) -> ResponseKind? {
        guard let response = flow.response else { return nil }
        let contentType = response.headers.first(name: "Content-Type")
        var body: [UInt8] = []
        if ResponseKind.needsBody(contentType: contentType) {
            guard let loaded = try? LoadedBody.load(flow.responseBody, headers: response.headers,
                                                    limit: ResponseKind.bodyLimit) else { return nil }
            if loaded.complete && !loaded.exceedsLimit { body = loaded.bytes }
        }
        return ResponseKind(status: response.status, contentType: contentType, body: body)
    }

    // MARK: - Folders

    private func group(_ items: [(endpoint: PostmanEndpoint, item: JSONValue)]) -> [JSONValue] {
        switch options.grouping {
        case .none:
            return items.map(\.item)
        case .path:
            return pathFolders(items)
        case .host:
            var hosts: [String] = []
            var byHost: [String: [(endpoint: PostmanEndpoint, item: JSONValue)]] = [:]
            for entry in items {
                let host = entry.endpoint.url.authority
                if byHost[host] == nil { hosts.append(host) }
                byHost[host, default: []].append(entry)
            }
            return hosts.map { host in
                Self.folder(host, pathFolders(byHost[host] ?? []))
            }
        }
    }

    /// Items in folders named by the path segment that distinguishes them (`PostmanGrouping.folderDepth`).
    private func pathFolders(_ items: [(endpoint: PostmanEndpoint, item: JSONValue)]) -> [JSONValue] {
        let depth = PostmanGrouping.folderDepth(of: items.map(\.endpoint.template))
        return folders(items, by: { Self.segment(depth, of: $0) })
    }

    /// Items grouped into folders named by `key` in first-seen order; items whose key is nil stay loose.
    private func folders(_ items: [(endpoint: PostmanEndpoint, item: JSONValue)],
                         by key: (PostmanEndpoint) -> String?) -> [JSONValue] {
        var order: [String?] = []
        var grouped: [String: [JSONValue]] = [:]
        for entry in items {
            guard let name = key(entry.endpoint) else {
                order.append(nil)
                grouped["\u{0}loose\(order.count)"] = [entry.item]
                continue
            }
            if grouped[name] == nil { order.append(name) }
            grouped[name, default: []].append(entry.item)
        }
        var result: [JSONValue] = []
        for (position, name) in order.enumerated() {
            if let name {
                result.append(Self.folder(name, grouped[name] ?? []))
            } else {
                result.append(contentsOf: grouped["\u{0}loose\(position + 1)"] ?? [])
            }
        }
        return result
    }

    /// The decoded literal at `position` of the endpoint's template; nil for a variable, an empty or a missing segment.
    private static func segment(_ position: Int, of endpoint: PostmanEndpoint) -> String? {
        let segments = endpoint.template.segments
        guard position < segments.count, case .literal(let text) = segments[position], !text.isEmpty else { return nil }
        return PercentEncoding.decode(text)
    }

    private static func folder(_ name: String, _ items: [JSONValue]) -> JSONValue {
        .object([JSONMember("name", .string(name)), JSONMember("item", .array(items))])
    }

    /// `http://127.0.0.1:5000` -> `127_0_0_1_5000`.
    static func identifier(_ origin: String) -> String {
        var text = origin
        if let range = text.range(of: "://") { text = String(text[range.upperBound...]) }
        return String(text.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
    }

    // MARK: - Items

    private func makeItem(_ endpoint: PostmanEndpoint, baseVariable: String,
                          registry: inout SecretRegistry, files: inout [String: [UInt8]]) throws(ExportError) -> JSONValue {
        let headerRedactor = PostmanHeaderRedactor(rules: options.rules, redact: options.redact)
        let bodyBuilder = PostmanBodyBuilder(rules: options.rules, redact: options.redact, binaryDirectory: options.binaryDirectory)
        guard let representative = endpoint.flows.first, let head = representative.flow.request else {
            return .null
        }
        let itemID = StableID.uuid("item", endpoint.key)
        // Every flow's credentials become variables, even of flows that are not shown,
        // so their values are known to the final scrub and defined for the user.
        for entry in endpoint.flows.dropFirst() {
            _ = headerRedactor.request(entry.flow.request?.headers ?? HTTPHeaders(), registry: &registry)
        }

        // The request: the first flow's headers and body, the template URL with observed values.
        var (headers, auth) = headerRedactor.request(head.headers, registry: &registry)
        var notes: [String] = []
        var body: JSONValue?
        if representative.flow.kind != .websocket {
            let loaded = try load(representative.flow.requestBody, head.headers)
            let made = bodyBuilder.body(headers: head.headers, loaded: loaded, path: endpoint.url.path,
                                        registry: &registry, files: &files)
            body = made.body
            headers = PostmanBodyBuilder.headers(headers, for: body)
            if let note = made.note { notes.append(note) }
        } else {
            headers = headers.filter { $0["key"]?.stringValue?.lowercased().hasPrefix("sec-websocket") != true }
        }
        let url = templateURL(endpoint, baseVariable: baseVariable, registry: &registry)
        var request = [JSONMember("method", .string(endpoint.method))]
        if let auth { request.append(JSONMember("auth", auth)) }
        request.append(JSONMember("header", .array(headers)))
        if let body { request.append(JSONMember("body", body)) }
        request.append(JSONMember("url", url))

        var statuses: [Int] = []
        for entry in endpoint.flows { if let status = entry.flow.response?.status, !statuses.contains(status) { statuses.append(status) } }
        let flowIDs = endpoint.flows.prefix(20).map { "\($0.flow.id)" }.joined(separator: ", ") + (endpoint.flows.count > 20 ? ", ..." : "")
        var description = "Seen \(endpoint.flows.count) time\(endpoint.flows.count == 1 ? "" : "s") (flow\(endpoint.flows.count == 1 ? "" : "s") \(flowIDs))"
        if !statuses.isEmpty { description += "; status \(statuses.map(String.init).joined(separator: ", "))" }
        description += "."
        for note in notes { description += " Note: \(note)." }

        var members = [JSONMember("id", .string(itemID)), JSONMember("name", .string(endpoint.name))]
        if representative.flow.kind == .websocket {
            let flow = representative.flow
            let flowMessages = messages(flow)
            let responseHeaders = flow.response.map { headerRedactor.response($0.headers, bodyDecoded: false, bodyVerbatim: true, registry: &registry) }
            let subprotocol = flow.response?.headers.first(name: "Sec-WebSocket-Protocol")
            let sent = flowMessages.filter(\.fromClient).count
            description = "WebSocket endpoint \(endpoint.url.origin)\(endpoint.template.text): \(flowMessages.count) message\(flowMessages.count == 1 ? "" : "s") (\(sent) sent, \(flowMessages.count - sent) received)"
                + (subprotocol.map { ", subprotocol \($0)" } ?? "")
                + ". Postman Collection v2.1 has no WebSocket request type: this GET is the handshake and the messages are in the item's _tapline extension (see tapline docs/export.md). "
                + Self.cutMessagesNote(flowMessages)
                + description
            members.append(JSONMember("description", .string(description)))
            members.append(JSONMember("request", .object(request)))
            members.append(JSONMember("response", .array([])))
            let allHeaders = headerRedactor.request(flow.request?.headers ?? HTTPHeaders(), registry: &registry).headers
            members.append(JSONMember("_tapline", TaplineExtension.webSocket(
                url: representative.url.absolute, requestHeaders: allHeaders,
                response: flow.response.map { ($0.status, responseHeaders ?? []) }, subprotocol: subprotocol,
                handshakeProtocol: ExportedRequest.webSocketHandshakeProtocol(flow),
                messages: flowMessages, rules: options.rules, redact: options.redact, registry: &registry)))
            return .object(members)
        }
        members.append(JSONMember("description", .string(description)))
        members.append(JSONMember("request", .object(request)))

        var examples: [JSONValue] = []
        var seenStatus: Set<Int> = []
        for entry in endpoint.flows {
            guard let response = entry.flow.response, seenStatus.insert(response.status).inserted else { continue }
            examples.append(try example(entry, response: response, itemID: itemID, baseVariable: baseVariable,
                                        headerRedactor: headerRedactor, bodyBuilder: bodyBuilder,
                                        registry: &registry, files: &files))
        }
        members.append(JSONMember("response", .array(examples)))
        return .object(members)
    }

    /// The item of one gRPC method: a POST of `{{baseUrl}}/pkg.Service/Method` with the first
    /// call's redacted headers, and the first call's messages, metadata, trailers and status
    /// in `_tapline` (Postman v2.1 has no gRPC request type).
    private func grpcItem(_ calls: [(flow: CapturedFlow, url: RequestURL, call: GRPCCallView)], baseVariable: String,
                          registry: inout SecretRegistry) -> JSONValue {
        let headerRedactor = PostmanHeaderRedactor(rules: options.rules, redact: options.redact)
        let (flow, url, call) = calls[0]
        for other in calls.dropFirst() {
            _ = headerRedactor.request(other.flow.request?.headers ?? HTTPHeaders(), registry: &registry)
        }
        let (headers, auth) = headerRedactor.request(flow.request?.headers ?? HTTPHeaders(), registry: &registry)
        let metadata = headerRedactor.request(call.requestMetadata, registry: &registry).headers
        let responseHeaders = headerRedactor.response(call.responseMetadata, bodyDecoded: false, bodyVerbatim: true, registry: &registry)
        let trailers = call.trailers.map { headerRedactor.response($0, bodyDecoded: false, bodyVerbatim: true, registry: &registry) }
        var request = [JSONMember("method", .string("POST"))]
        if let auth { request.append(JSONMember("auth", auth)) }
        request.append(JSONMember("header", .array(headers)))
        request.append(JSONMember("url", urlObject(baseVariable: baseVariable, path: [call.service, call.method], query: [], variables: [])))
        let statuses = calls.compactMap { $0.call.status?.name }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let flowIDs = calls.prefix(20).map { "\($0.flow.id)" }.joined(separator: ", ") + (calls.count > 20 ? ", ..." : "")
        let description = "gRPC \(call.kindText) call \(call.fullMethod) on \(url.origin): seen \(calls.count) time\(calls.count == 1 ? "" : "s") (flow\(calls.count == 1 ? "" : "s") \(flowIDs))"
            + (statuses.isEmpty ? "" : "; status \(statuses.joined(separator: ", "))")
            + ". Postman Collection v2.1 has no gRPC request type: this POST is the call's HTTP/2 request and the first call's messages (as JSON) are in the item's _tapline extension (see tapline docs/export.md)."
        return .object([
            JSONMember("id", .string(StableID.uuid("grpc", url.origin, call.fullMethod))),
            JSONMember("name", .string(call.fullMethod)),
            JSONMember("description", .string(description)),
            JSONMember("request", .object(request)),
            JSONMember("response", .array([])),
            JSONMember("_tapline", TaplineExtension.grpc(
                url: url.origin + "/" + call.fullMethod, call: call, requestHeaders: metadata,
                response: flow.response.map { ($0.status, responseHeaders) }, trailers: trailers,
                rules: options.rules, redact: options.redact, registry: &registry)),
        ])
    }

    private func load(_ body: CapturedBody, _ headers: HTTPHeaders) throws(ExportError) -> LoadedBody {
        do throws(CaptureError) {
            return try LoadedBody.load(body, headers: headers, limit: options.bodyLimit)
        } catch {
            throw .capture(error)
        }
    }

    /// `{{baseUrl}}/users/:userId?sort=name` with path variables and query parameters broken out.
    private func templateURL(_ endpoint: PostmanEndpoint, baseVariable: String, registry: inout SecretRegistry) -> JSONValue {
        // Observed values of each path variable, first-seen order.
        var observed: [[String]] = Array(repeating: [], count: endpoint.template.segments.count)
        for entry in endpoint.flows {
            for (position, segment) in entry.url.segments.enumerated() where position < observed.count {
                let value = PercentEncoding.decode(segment)
                if !observed[position].contains(value) { observed[position].append(value) }
            }
        }
        var variables: [JSONValue] = []
        for (position, segment) in endpoint.template.segments.enumerated() {
            guard case .variable(let name, let kind) = segment else { continue }
            let values = observed[position]
            var members = [JSONMember("key", .string(name)), JSONMember("value", .string(values.first ?? ""))]
            let shown = values.prefix(10).joined(separator: ", ") + (values.count > 10 ? ", ... (\(values.count) values)" : "")
            members.append(JSONMember("description", .string("\(kind.rawValue); observed: \(shown)")))
            variables.append(.object(members))
        }
        // Query parameters: every name seen, its most frequent value.
        var names: [String] = []
        var counts: [String: [(value: String?, count: Int)]] = [:]
        for entry in endpoint.flows {
            for parameter in entry.url.query {
                if counts[parameter.name] == nil { names.append(parameter.name) }
                var list = counts[parameter.name] ?? []
                if let found = list.firstIndex(where: { $0.value == parameter.value }) {
                    list[found].count += 1
                } else {
                    list.append((parameter.value, 1))
                }
                counts[parameter.name] = list
            }
        }
        var query: [JSONValue] = []
        for name in names {
            let list = counts[name] ?? []
            var best = list.first
            for candidate in list where candidate.count > (best?.count ?? 0) { best = candidate }
            var value = best?.value
            if options.redact, rules.isSecretQueryParameter(name) {
                for observedValue in list.compactMap(\.value) {
                    value = registry.record(observedValue, as: EndpointNormalizer.camelCase(name))
                }
            }
            var members = [JSONMember("key", .string(name)), JSONMember("value", value.map { .string($0) } ?? .null)]
            if list.count > 1 && !(options.redact && rules.isSecretQueryParameter(name)) {
                let shown = list.prefix(10).map { $0.value ?? "(no value)" }.joined(separator: ", ")
                members.append(JSONMember("description", .string("varies; observed: \(shown)\(list.count > 10 ? ", ..." : "")")))
            }
            query.append(.object(members))
        }
        let components = endpoint.template.pathComponents
        return urlObject(baseVariable: baseVariable, path: components, query: query, variables: variables)
    }

    private var rules: RedactionRules { options.rules }

    private func urlObject(baseVariable: String, path: [String], query: [JSONValue], variables: [JSONValue]) -> JSONValue {
        var raw = "{{\(baseVariable)}}/" + path.joined(separator: "/")
        if !query.isEmpty {
            raw += "?" + query.map { entry -> String in
                let key = entry["key"]?.stringValue ?? ""
                guard let value = entry["value"]?.stringValue else { return PercentEncoding.encode(key) }
                return PercentEncoding.encode(key) + "=" + (value.hasPrefix("{{") ? value : PercentEncoding.encode(value, keep: ",:@/"))
            }.joined(separator: "&")
        }
        var members = [JSONMember("raw", .string(raw)), JSONMember("host", .array([.string("{{\(baseVariable)}}")])),
                       JSONMember("path", .array(path.map { .string($0) }))]
        if !query.isEmpty { members.append(JSONMember("query", .array(query))) }
        if !variables.isEmpty { members.append(JSONMember("variable", .array(variables))) }
        return .object(members)
    }

    /// One saved response with the concrete request that produced it.
    private func example(_ entry: (session: String, flow: CapturedFlow, url: RequestURL), response: HTTPResponseHead,
                         itemID: String, baseVariable: String, headerRedactor: PostmanHeaderRedactor,
                         bodyBuilder: PostmanBodyBuilder, registry: inout SecretRegistry,
                         files: inout [String: [UInt8]]) throws(ExportError) -> JSONValue {
        let flow = entry.flow
        let head = flow.request ?? HTTPRequestHead(method: "GET", target: "/")
        let (headers, auth) = headerRedactor.request(head.headers, registry: &registry)
        let requestBody = bodyBuilder.body(headers: head.headers, loaded: try load(flow.requestBody, head.headers),
                                           path: entry.url.path, registry: &registry, files: &files).body
        var query: [JSONValue] = []
        for parameter in entry.url.query {
            var value = parameter.value
            if options.redact, rules.isSecretQueryParameter(parameter.name), let secret = value {
                value = registry.record(secret, as: EndpointNormalizer.camelCase(parameter.name))
            }
            query.append(.object([JSONMember("key", .string(parameter.name)), JSONMember("value", value.map { .string($0) } ?? .null)]))
        }
        var original = [JSONMember("method", .string(head.method))]
        if let auth { original.append(JSONMember("auth", auth)) }
        original.append(JSONMember("header", .array(PostmanBodyBuilder.headers(headers, for: requestBody))))
        if let requestBody { original.append(JSONMember("body", requestBody)) }
        original.append(JSONMember("url", urlObject(baseVariable: baseVariable, path: entry.url.segments, query: query, variables: [])))

        let loaded = try load(flow.responseBody, response.headers)
        let type = MediaType(response.headers.first(name: "Content-Type"))
        var bodyText: JSONValue = .string("")
        var language = "text"
        if !loaded.bytes.isEmpty {
            if let text = loaded.utf8Text, type == nil || type?.isTextual == true || !text.contains("\u{0}") {
                if type?.isJSON == true || type == nil, let json = try? JSONParser.parse(loaded.bytes) {
                    let clean = options.redact ? JSONRedactor.redact(json, rules: rules, registry: &registry) : json
                    bodyText = .string(JSONWriter.text(clean, indent: "    "))
                    language = "json"
                } else {
                    bodyText = .string(text)
                    language = type?.isXML == true ? "xml" : type?.isHTML == true ? "html"
                        : type?.isJavaScript == true ? "javascript" : type?.isJSON == true ? "json" : "text"
                }
            } else {
                bodyText = .null
                language = "raw"
            }
        }
        let verbatim = !loaded.decoded && loaded.complete && bodyText.stringValue.map { Array($0.utf8) == loaded.bytes } == true
        let reason = response.reason.isEmpty ? HTTPStatusText.reason(response.status) : response.reason
        var members = [
            JSONMember("id", .string(StableID.uuid("response", itemID, String(response.status)))),
            JSONMember("name", .string("\(response.status) \(reason)".trimmingSpaces)),
            JSONMember("originalRequest", .object(original)),
            JSONMember("status", .string(reason)),
            JSONMember("code", .integer(response.status)),
            JSONMember("_postman_previewlanguage", .string(language)),
            JSONMember("header", .array(headerRedactor.response(response.headers, bodyDecoded: loaded.decoded, bodyVerbatim: verbatim,
                                                                   registry: &registry))),
            JSONMember("cookie", .array([])),
        ]
        if let duration = flow.durationMilliseconds { members.append(JSONMember("responseTime", .milliseconds(duration))) }
        members.append(JSONMember("body", bodyText))
        return .object(members)
    }
}

extension String {
    /// Without leading and trailing spaces.
    var trimmingSpaces: String { self[...].trimmed }
}
