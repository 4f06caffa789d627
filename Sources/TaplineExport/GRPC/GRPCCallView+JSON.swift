import TaplineWire

/// The JSON form of a call view, shared by `tapline show --json`, the Postman
/// `_tapline` extension and HAR's `_grpcMessages`, so every reader sees one structure
/// (docs/grpc.md, "Reading captured calls"). Message times are microseconds since the
/// epoch, as in the capture.
extension GRPCCallView {
    /// The call without its messages: what the flow list shows.
    public var summaryJSON: JSONValue {
        .object([
            JSONMember("service", .string(service)),
            JSONMember("method", .string(method)),
            JSONMember("fullMethod", .string(fullMethod)),
            JSONMember("protocol", .string(contentType.name)),
            JSONMember("kind", .string(kind.rawValue)),
            JSONMember("kindInferred", .bool(kindIsInferred)),
            JSONMember("requestMessages", .integer(messageCount(.request))),
            JSONMember("responseMessages", .integer(messageCount(.response))),
            JSONMember("status", status.map(Self.statusJSON) ?? .null),
        ])
    }

    /// The whole call: summary fields, types, metadata, messages, trailers, status details, notes.
    public var json: JSONValue {
        guard case .object(var members) = summaryJSON else { return summaryJSON }
        members += [
            JSONMember("requestType", requestType.map(JSONValue.string) ?? .null),
            JSONMember("responseType", responseType.map(JSONValue.string) ?? .null),
            JSONMember("requestMetadata", Self.fieldsJSON(requestMetadata)),
            JSONMember("responseMetadata", Self.fieldsJSON(responseMetadata)),
            JSONMember("messages", .array(messages.map(Self.messageJSON))),
            JSONMember("trailers", trailers.map(Self.fieldsJSON) ?? .null),
            JSONMember("statusDetails", statusDetails ?? .null),
            JSONMember("notes", .array(notes.map(JSONValue.string))),
        ]
        return .object(members)
    }

    static func statusJSON(_ status: GRPCStatus) -> JSONValue {
        .object([JSONMember("code", .integer(status.code)), JSONMember("name", .string(status.name)),
                 JSONMember("message", .string(status.message))])
    }

    /// `[[name, value], ...]` in order, as the capture format writes header lists.
    static func fieldsJSON(_ fields: HTTPHeaders) -> JSONValue {
        .array(fields.map { .array([.string($0.name), .string($0.value)]) })
    }

    static func messageJSON(_ message: GRPCCapturedMessage) -> JSONValue {
        var members = [
            JSONMember("direction", .string(message.direction.rawValue)),
            JSONMember("index", .integer(message.index)),
            JSONMember("compressed", .bool(message.compressed)),
            JSONMember("wireBytes", .integer(message.wireBytes)),
            JSONMember("time", message.time.map { .integer($0.microseconds) } ?? .null),
            JSONMember("timeIsChunkTime", .bool(message.timeIsChunkTime)),
        ]
        switch message.content {
        case .decoded(let value, let typeName):
            members += [JSONMember("decoding", .string("schema")), JSONMember("type", .string(typeName)),
                        JSONMember("json", value)]
        case .raw(let value, let reason):
            members += [JSONMember("decoding", .string("raw")), JSONMember("reason", .string(reason)),
                        JSONMember("json", value)]
        case .json(let value):
            members += [JSONMember("decoding", .string("json")), JSONMember("json", value)]
        case .notDecoded(let reason):
            members += [JSONMember("decoding", .string("none")), JSONMember("reason", .string(reason))]
        case .incomplete(let stored, let declared):
            members += [JSONMember("decoding", .string("incomplete")), JSONMember("storedBytes", .integer(stored)),
                        JSONMember("declaredBytes", declared.map { .integer($0) } ?? .null)]
        }
        return .object(members)
    }
}
