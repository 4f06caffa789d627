import TaplineWire

/// Maps a `ProtobufMessageValue` to its proto3 JSON form (protobuf's "ProtoJSON format"),
/// as `json_format.MessageToDict` does with its defaults:
///
/// - Members named by `json_name` (lowerCamelCase), in field-number order.
/// - int64, uint64, sint64, sfixed64, fixed64 as decimal strings; other integers as numbers.
///   float and double as their shortest round-trip text, `"NaN"`, `"Infinity"`, `"-Infinity"`.
/// - bytes as standard base64 with padding; enums by name, by number when the enum does not
///   declare it; `google.protobuf.NullValue` as `null`.
/// - Repeated fields as arrays; maps as objects, keys as strings (`"true"`, `"-3"`).
/// - A field without presence (`ProtoField.tracksPresence`) at its default
///   value is left out unless `includeDefaultValues`; so are empty repeated fields and maps.
/// - Well-known types in their own forms: Timestamp, Duration, FieldMask, Struct, Value,
///   ListValue (a Value with no kind set is `null`, as json_format prints it), the wrappers, and Any (`"@type"` plus the payload's members, or `"value"`
///   for a payload with its own form). An Any whose type the schema lacks keeps its bytes:
///   `{"@type": URL, "@unresolved": "<why>", "value": "<base64>"}`.
/// - Unknown fields as members named by their number, valued as `RawProtobufJSON` shows them.
///
/// Errors (`ProtobufJSONError`, pointing into the output): a Timestamp or Duration out of
/// range, a Value with no kind or a non-finite number, an Any payload that does not decode.
/// Recursion is bounded: messages nest at most `ProtobufMessageDecoder.defaultMaxDepth`
/// levels, Any payloads included. Immutable; safe to share between threads.
public struct ProtobufJSONPrinter: Sendable {
    public let schema: ProtoSchema
    public let includeDefaultValues: Bool
    public let includeUnknownFields: Bool

    public init(schema: ProtoSchema, includeDefaultValues: Bool = false, includeUnknownFields: Bool = true) {
        self.schema = schema
        self.includeDefaultValues = includeDefaultValues
        self.includeUnknownFields = includeUnknownFields
    }

    public func json(for message: ProtobufMessageValue) throws(ProtobufJSONError) -> JSONValue {
        try json(for: message, at: "", depth: 0)
    }

    private func json(for message: ProtobufMessageValue, at pointer: String, depth: Int) throws(ProtobufJSONError) -> JSONValue {
        guard depth < ProtobufMessageDecoder.defaultMaxDepth else {
            throw ProtobufJSONError(at: pointer, "messages nested deeper than \(ProtobufMessageDecoder.defaultMaxDepth) levels (counting Any payloads)")
        }
        if let special = ProtobufWellKnownType(fullName: message.typeName) {
            return try wellKnownJSON(special, message, at: pointer, depth: depth)
        }
        return .object(try members(of: message, at: pointer, depth: depth))
    }

    /// The members of a message as an ordinary object (what an Any adds beside `@type`).
    private func members(of message: ProtobufMessageValue, at pointer: String, depth: Int) throws(ProtobufJSONError) -> [JSONMember] {
        guard let descriptor = schema.message(named: message.typeName) else {
            throw ProtobufJSONError(at: pointer, "type \(message.typeName) is not defined in the loaded schema")
        }
        var members: [JSONMember] = []
        for field in descriptor.fields.sorted(by: { $0.number < $1.number }) {
            let fieldPointer = ProtobufJSONError.pointer(pointer, field.jsonName)
            let values = message.fields[field.number] ?? []
            if field.cardinality == .repeated {
                guard !values.isEmpty || includeDefaultValues else { continue }
                if case .message(let entryType) = field.type, let entry = schema.message(named: entryType), entry.isMapEntry {
                    members.append(JSONMember(field.jsonName, try mapJSON(values, entry: entry, at: fieldPointer, depth: depth)))
                } else {
                    var elements: [JSONValue] = []
                    for (index, value) in values.enumerated() {
                        elements.append(try valueJSON(value, of: field.type, at: ProtobufJSONError.pointer(fieldPointer, String(index)), depth: depth))
                    }
                    members.append(JSONMember(field.jsonName, .array(elements)))
                }
            } else if let value = values.last {
                if !field.tracksPresence && value.isZero && !includeDefaultValues { continue }
                members.append(JSONMember(field.jsonName, try valueJSON(value, of: field.type, at: fieldPointer, depth: depth)))
            } else if includeDefaultValues, !field.tracksPresence, let value = Self.defaultValue(of: field.type, schema: schema) {
                members.append(JSONMember(field.jsonName, try valueJSON(value, of: field.type, at: fieldPointer, depth: depth)))
            }
        }
        if includeUnknownFields, !message.unknownFields.isEmpty {
            let raw = RawProtobufJSON.render(RawProtobufMessage(fields: message.unknownFields))
            if let rendered = try? JSONParser.parse(Array(raw.utf8)), let unknown = rendered.objectMembers { members += unknown }
        }
        return members
    }

    private func mapJSON(_ entries: [ProtobufValue], entry: ProtoMessage, at pointer: String, depth: Int) throws(ProtobufJSONError) -> JSONValue {
        guard let keyField = entry.field(number: 1), let valueField = entry.field(number: 2) else { return .object([]) }
        var members: [JSONMember] = []
        for case .message(let pair) in entries {
            let key = pair[1] ?? Self.defaultValue(of: keyField.type, schema: schema) ?? .string("")
            let keyText: String
            switch key {
            case .signed(let number): keyText = String(number)
            case .unsigned(let number): keyText = String(number)
            case .bool(let flag): keyText = flag ? "true" : "false"
            case .string(let text): keyText = text
            default: keyText = ""
            }
            let valuePointer = ProtobufJSONError.pointer(pointer, keyText)
            let value = pair[2] ?? Self.defaultValue(of: valueField.type, schema: schema)
                ?? .message(ProtobufMessageValue(typeName: valueField.type.name))
            let json = try valueJSON(value, of: valueField.type, at: valuePointer, depth: depth)
            // A key seen twice keeps its last value, in the place it first had.
            if let existing = members.firstIndex(where: { $0.key == keyText }) {
                members[existing].value = json
            } else {
                members.append(JSONMember(keyText, json))
            }
        }
        return .object(members)
    }

    private func valueJSON(_ value: ProtobufValue, of type: ProtoFieldType, at pointer: String, depth: Int) throws(ProtobufJSONError) -> JSONValue {
        switch value {
        case .signed(let number):
            if case .int32 = type { return .integer(number) }
            if case .sint32 = type { return .integer(number) }
            if case .sfixed32 = type { return .integer(number) }
            return .string(String(number))
        case .unsigned(let number):
            if case .uint32 = type { return .integer(number) }
            if case .fixed32 = type { return .integer(number) }
            return .string(String(number))
        case .double(let number): return Self.floatingJSON(number, text: number.description)
        case .float(let number): return Self.floatingJSON(Double(number), text: number.description)
        case .bool(let flag): return .bool(flag)
        case .string(let text): return .string(text)
        case .bytes(let bytes): return .string(Base64.encode(bytes))
        case .enumNumber(let number):
            if type.name == ProtobufWellKnownType.nullValueEnum { return .null }
            if let name = schema.enumeration(named: type.name)?.value(number: Int64(number))?.name { return .string(name) }
            return .integer(number)
        case .message(let message):
            return try json(for: message, at: pointer, depth: depth + 1)
        }
    }

    /// A finite number as `text`; NaN and infinities as the strings proto3 JSON uses.
    static func floatingJSON(_ number: Double, text: String) -> JSONValue {
        if number.isNaN { return .string("NaN") }
        if number.isInfinite { return .string(number < 0 ? "-Infinity" : "Infinity") }
        return .number(text)
    }

    // MARK: Well-known types

    private func wellKnownJSON(_ type: ProtobufWellKnownType, _ message: ProtobufMessageValue,
                               at pointer: String, depth: Int) throws(ProtobufJSONError) -> JSONValue {
        switch type {
        case .timestamp, .duration:
            let seconds = message[1].flatMap(Self.signed) ?? 0
            let nanos = Int32(truncatingIfNeeded: message[2].flatMap(Self.signed) ?? 0)
            let text = type == .timestamp
                ? ProtobufTimeJSON.timestampText(seconds: seconds, nanos: nanos)
                : ProtobufTimeJSON.durationText(seconds: seconds, nanos: nanos)
            guard let text else {
                throw ProtobufJSONError(at: pointer, "\(message.typeName) of \(seconds) s and \(nanos) ns is out of the range JSON can show")
            }
            return .string(text)
        case .fieldMask:
            var paths: [String] = []
            for case .string(let path) in message.fields[1] ?? [] {
                guard let json = ProtobufFieldMaskPath.jsonForm(of: path) else {
                    throw ProtobufJSONError(at: pointer, "google.protobuf.FieldMask path \"\(path)\" has no JSON form "
                                            + "(only lower_snake_case paths do)")
                }
                paths.append(json)
            }
            return .string(paths.joined(separator: ","))
        case .wrapper:
            guard let field = schema.message(named: message.typeName)?.field(number: 1) else { return .null }
            let value = message[1] ?? Self.defaultValue(of: field.type, schema: schema) ?? .bool(false)
            return try valueJSON(value, of: field.type, at: pointer, depth: depth)
        case .struct:
            guard let entry = schema.message(named: "google.protobuf.Struct.FieldsEntry") else { return .object([]) }
            return try mapJSON(message.fields[1] ?? [], entry: entry, at: pointer, depth: depth)
        case .listValue:
            var elements: [JSONValue] = []
            for (index, element) in (message.fields[1] ?? []).enumerated() {
                elements.append(try valueJSON(element, of: .message("google.protobuf.Value"),
                                              at: ProtobufJSONError.pointer(pointer, String(index)), depth: depth))
            }
            return .array(elements)
        case .value:
            let kind = message.fields.first { (1...6).contains($0.key) }
            switch (kind?.key, kind?.value.last) {
            case (1, _), (nil, _): return .null  // no kind set: null, as json_format prints it
            case (2, .double(let number)):
                guard number.isFinite else {
                    throw ProtobufJSONError(at: pointer, "google.protobuf.Value number_value \(number) has no JSON form")
                }
                return .number(number.description)
            case (3, .string(let text)): return .string(text)
            case (4, .bool(let flag)): return .bool(flag)
            case (5, let nested?), (6, let nested?): return try valueJSON(nested, of: .message(""), at: pointer, depth: depth)
            default: throw ProtobufJSONError(at: pointer, "google.protobuf.Value holds a kind of the wrong type")
            }
        case .any:
            return try anyJSON(message, at: pointer, depth: depth)
        }
    }

    private func anyJSON(_ message: ProtobufMessageValue, at pointer: String, depth: Int) throws(ProtobufJSONError) -> JSONValue {
        guard case .string(let typeURL)? = message[1], !typeURL.isEmpty else { return .object([]) }
        var payload: [UInt8] = []
        if case .bytes(let bytes)? = message[2] { payload = bytes }
        let typeName = String(typeURL.split(separator: "/", omittingEmptySubsequences: false).last ?? "")
        guard schema.message(named: typeName) != nil else {
            return .object([JSONMember("@type", .string(typeURL)),
                            JSONMember("@unresolved", .string("type \(typeName) is not in the loaded schema")),
                            JSONMember("value", .string(Base64.encode(payload)))])
        }
        let decoded: ProtobufMessageValue
        do {
            decoded = try ProtobufMessageDecoder(schema: schema, maxDepth: ProtobufMessageDecoder.defaultMaxDepth - depth)
                .decode(payload, as: typeName)
        } catch {
            throw ProtobufJSONError(at: ProtobufJSONError.pointer(pointer, "value"), "the Any payload is not a \(typeName): \(error)")
        }
        if ProtobufWellKnownType(fullName: typeName) != nil {
            return .object([JSONMember("@type", .string(typeURL)),
                            JSONMember("value", try json(for: decoded, at: ProtobufJSONError.pointer(pointer, "value"), depth: depth + 1))])
        }
        return .object([JSONMember("@type", .string(typeURL))] + (try members(of: decoded, at: pointer, depth: depth + 1)))
    }

    // MARK: Defaults and presence

    /// The zero value of a non-message type (nil for messages).
    static func defaultValue(of type: ProtoFieldType, schema: ProtoSchema) -> ProtobufValue? {
        switch type {
        case .int64, .int32, .sint64, .sint32, .sfixed64, .sfixed32: .signed(0)
        case .uint64, .uint32, .fixed64, .fixed32: .unsigned(0)
        case .double: .double(0)
        case .float: .float(0)
        case .bool: .bool(false)
        case .string: .string("")
        case .bytes: .bytes([])
        case .enum(let name): .enumNumber(Int32(truncatingIfNeeded: schema.enumeration(named: name)?.values.first?.number ?? 0))
        case .message, .named: nil
        }
    }

    private static func signed(_ value: ProtobufValue) -> Int64? {
        if case .signed(let number) = value { return number }
        return nil
    }
}
