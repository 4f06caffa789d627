import TaplineWire

/// Reads proto3 JSON into a `ProtobufMessageValue` with a schema: the inverse of
/// `ProtobufJSONPrinter`, as lenient as protobuf's parsers (`json_format.Parse`):
///
/// - Members by `json_name` or by the field's name in the `.proto` file; `null` leaves a
///   field unset (except `google.protobuf.Value` and `NullValue`, where it is the value).
/// - Integers as JSON numbers (an exact integer, `1e3` too) or decimal strings; float and
///   double as numbers, numeric strings, `"NaN"`, `"Infinity"`, `"-Infinity"`.
/// - bytes as standard or URL-safe base64, padded or not; enums by name or number; map keys
///   as strings of the key type.
/// - The well-known types in their special forms; an Any by `"@type"` (resolved in the
///   schema) and the payload's members or `"value"`; the printer's `"@unresolved"` form
///   gives back its bytes.
/// - Members named by a field number are unknown fields, read as `RawProtobufJSON` writes
///   them (a number, or a decimal string above 2^53, is a varint; `"0x"` and 8 or 16 hex
///   digits a fixed32 / fixed64; an object an embedded message; another string text;
///   `{"bytes": ...}` bytes).
///
/// Every error is a `ProtobufJSONError` with the JSON Pointer of the bad value.
/// Immutable; safe to share between threads. Recursion is bounded by `maxDepth`.
public struct ProtobufJSONReader: Sendable {
    public let schema: ProtoSchema
    public let maxDepth: Int

    public init(schema: ProtoSchema, maxDepth: Int = ProtobufMessageDecoder.defaultMaxDepth) {
        self.schema = schema
        self.maxDepth = maxDepth
    }

    /// Reads `json` as a message of type `typeName` (full name).
    public func message(from json: JSONValue, as typeName: String) throws(ProtobufJSONError) -> ProtobufMessageValue {
        try message(from: json, as: typeName.hasPrefix(".") ? String(typeName.dropFirst()) : typeName, at: "", depth: 0)
    }

    private func message(from json: JSONValue, as typeName: String, at pointer: String,
                         depth: Int) throws(ProtobufJSONError) -> ProtobufMessageValue {
        guard depth < maxDepth else { throw ProtobufJSONError(at: pointer, "messages nested deeper than \(maxDepth) levels") }
        guard let descriptor = schema.message(named: typeName) else {
            throw ProtobufJSONError(at: pointer, "type \(typeName) is not defined in the loaded schema")
        }
        if let special = ProtobufWellKnownType(fullName: typeName) {
            return try wellKnown(special, from: json, descriptor: descriptor, at: pointer, depth: depth)
        }
        guard let members = json.objectMembers else {
            throw ProtobufJSONError(at: pointer, "expected a JSON object for message \(typeName), found \(Self.kind(of: json))")
        }
        return try message(fromMembers: members, descriptor: descriptor, at: pointer, depth: depth)
    }

    private func message(fromMembers members: [JSONMember], descriptor: ProtoMessage, at pointer: String,
                         depth: Int) throws(ProtobufJSONError) -> ProtobufMessageValue {
        var value = ProtobufMessageValue(typeName: descriptor.fullName)
        var oneofMember: [Int: String] = [:]
        for member in members {
            let memberPointer = ProtobufJSONError.pointer(pointer, member.key)
            if let number = UInt32(member.key), ProtobufFieldTag.validFieldNumbers.contains(number) {
                value.unknownFields += try rawFields(number: number, from: member.value, at: memberPointer, depth: depth)
                continue
            }
            guard let field = descriptor.fields.first(where: { $0.jsonName == member.key || $0.name == member.key }) else {
                throw ProtobufJSONError(at: memberPointer, "message \(descriptor.fullName) has no field \(member.key.debugDescription)")
            }
            guard value.fields[field.number] == nil else {
                throw ProtobufJSONError(at: memberPointer, "field \(field.name) is given twice")
            }
            if member.value.isNull, !Self.acceptsNull(field.type) { continue }
            if let oneof = field.oneofIndex, !descriptor.oneofs[oneof].isSynthetic {
                if let other = oneofMember[oneof] {
                    throw ProtobufJSONError(at: memberPointer, "\(other) and \(member.key) are both set, but oneof \(descriptor.oneofs[oneof].name) holds one")
                }
                oneofMember[oneof] = member.key
            }
            value.fields[field.number] = try fieldValues(field, from: member.value, at: memberPointer, depth: depth)
        }
        return value
    }

    private func fieldValues(_ field: ProtoField, from json: JSONValue, at pointer: String,
                             depth: Int) throws(ProtobufJSONError) -> [ProtobufValue] {
        guard field.cardinality == .repeated else { return [try value(of: field.type, from: json, at: pointer, depth: depth)] }
        if case .message(let entryName) = field.type, let entry = schema.message(named: entryName), entry.isMapEntry {
            guard let members = json.objectMembers else {
                throw ProtobufJSONError(at: pointer, "expected a JSON object for map field \(field.name), found \(Self.kind(of: json))")
            }
            guard let keyField = entry.field(number: 1), let valueField = entry.field(number: 2) else { return [] }
            var entries: [ProtobufValue] = []
            for member in members {
                let entryPointer = ProtobufJSONError.pointer(pointer, member.key)
                let key = try value(of: keyField.type, from: .string(member.key), at: entryPointer, depth: depth, isMapKey: true)
                let mapped = try value(of: valueField.type, from: member.value, at: entryPointer, depth: depth)
                entries.append(.message(ProtobufMessageValue(typeName: entry.fullName, fields: [1: [key], 2: [mapped]])))
            }
            return entries
        }
        guard let elements = json.arrayValue else {
            throw ProtobufJSONError(at: pointer, "expected a JSON array for repeated field \(field.name), found \(Self.kind(of: json))")
        }
        var values: [ProtobufValue] = []
        for (index, element) in elements.enumerated() {
            let elementPointer = ProtobufJSONError.pointer(pointer, String(index))
            if element.isNull, !Self.acceptsNull(field.type) {
                throw ProtobufJSONError(at: elementPointer, "null is not allowed in repeated field \(field.name)")
            }
            values.append(try value(of: field.type, from: element, at: elementPointer, depth: depth))
        }
        return values
    }

    /// One value of `type`. Map keys (`isMapKey`) are strings whatever their type.
    private func value(of type: ProtoFieldType, from json: JSONValue, at pointer: String, depth: Int,
                       isMapKey: Bool = false) throws(ProtobufJSONError) -> ProtobufValue {
        func fail(_ expected: String) -> ProtobufJSONError {
            ProtobufJSONError(at: pointer, "expected \(expected) for a \(type.name) field, found \(Self.kind(of: json))")
        }
        switch type {
        case .int64, .sint64, .sfixed64:
            guard let number = Self.integer(json, in: Int64.min...Int64.max, allowingText: true) else { throw fail("an integer") }
            return .signed(number)
        case .int32, .sint32, .sfixed32:
            guard let number = Self.integer(json, in: Int64(Int32.min)...Int64(Int32.max), allowingText: true) else {
                throw fail("an integer from -2147483648 to 2147483647")
            }
            return .signed(number)
        case .uint64, .fixed64:
            guard let number = Self.unsignedInteger(json, max: UInt64.max) else { throw fail("an unsigned integer") }
            return .unsigned(number)
        case .uint32, .fixed32:
            guard let number = Self.unsignedInteger(json, max: UInt64(UInt32.max)) else {
                throw fail("an unsigned integer up to 4294967295")
            }
            return .unsigned(number)
        case .double:
            guard let number = Self.floating(json) else { throw fail("a number, \"NaN\", \"Infinity\" or \"-Infinity\"") }
            return .double(number)
        case .float:
            // A finite number that rounds to a finite float (3.4028235e+38, float's largest, printed shortest, is just above it).
            guard let number = Self.floating(json), !number.isFinite || Float(number).isFinite else {
                throw fail("a number in float's range, \"NaN\", \"Infinity\" or \"-Infinity\"")
            }
            return .float(Float(number))
        case .bool:
            if case .bool(let flag) = json { return .bool(flag) }
            if isMapKey, case .string(let text) = json, text == "true" || text == "false" { return .bool(text == "true") }
            throw fail("true or false")
        case .string:
            guard case .string(let text) = json else { throw fail("a string") }
            return .string(text)
        case .bytes:
            guard case .string(let text) = json, let bytes = Self.base64(text) else { throw fail("base64 text") }
            return .bytes(bytes)
        case .enum(let name):
            if name == ProtobufWellKnownType.nullValueEnum, json.isNull { return .enumNumber(0) }
            if case .string(let text) = json {
                if let value = schema.enumeration(named: name)?.values.first(where: { $0.name == text }) {
                    return .enumNumber(Int32(truncatingIfNeeded: value.number))
                }
                throw ProtobufJSONError(at: pointer, "\(text.debugDescription) is not a value of enum \(name)")
            }
            guard let number = Self.integer(json, in: Int64(Int32.min)...Int64(Int32.max), allowingText: false) else {
                throw fail("an enum value name or number")
            }
            return .enumNumber(Int32(number))
        case .message(let name):
            return .message(try message(from: json, as: name, at: pointer, depth: depth + 1))
        case .named(let name):
            throw ProtobufJSONError(at: pointer, "type \(name) is not resolved")
        }
    }

    // MARK: Well-known types

    private func wellKnown(_ type: ProtobufWellKnownType, from json: JSONValue, descriptor: ProtoMessage,
                           at pointer: String, depth: Int) throws(ProtobufJSONError) -> ProtobufMessageValue {
        let typeName = descriptor.fullName
        func fail(_ expected: String) -> ProtobufJSONError {
            ProtobufJSONError(at: pointer, "expected \(expected) for \(typeName), found \(Self.kind(of: json))")
        }
        switch type {
        case .timestamp, .duration:
            guard case .string(let text) = json else { throw fail(type == .timestamp ? "an RFC 3339 string" : "a string like \"1.5s\"") }
            let parsed = type == .timestamp ? ProtobufTimeJSON.timestamp(parsing: text) : ProtobufTimeJSON.duration(parsing: text)
            guard let (seconds, nanos) = parsed else {
                throw ProtobufJSONError(at: pointer, type == .timestamp
                    ? "\(text.debugDescription) is not an RFC 3339 time from year 0001 to 9999 (e.g. \"2024-01-02T03:04:05.678Z\")"
                    : "\(text.debugDescription) is not a duration in seconds up to 315576000000 (e.g. \"1.5s\")")
            }
            var fields: [Int64: [ProtobufValue]] = [:]
            if seconds != 0 { fields[1] = [.signed(seconds)] }
            if nanos != 0 { fields[2] = [.signed(Int64(nanos))] }
            return ProtobufMessageValue(typeName: typeName, fields: fields)
        case .fieldMask:
            guard case .string(let text) = json else { throw fail("a string of comma-separated paths") }
            var paths: [ProtobufValue] = []
            for json in text.isEmpty ? [] : text.split(separator: ",", omittingEmptySubsequences: false) {
                guard let path = ProtobufFieldMaskPath.path(fromJSONForm: json) else {
                    throw ProtobufJSONError(at: pointer, "google.protobuf.FieldMask path \"\(json)\" holds an underscore; "
                                            + "its JSON form is lowerCamelCase")
                }
                paths.append(.string(path))
            }
            return ProtobufMessageValue(typeName: typeName, fields: paths.isEmpty ? [:] : [1: paths])
        case .wrapper:
            guard let field = descriptor.field(number: 1) else { throw fail("a value") }
            let wrapped = try value(of: field.type, from: json, at: pointer, depth: depth)
            return ProtobufMessageValue(typeName: typeName, fields: [1: [wrapped]])
        case .struct:
            guard let members = json.objectMembers else { throw fail("a JSON object") }
            var entries: [ProtobufValue] = []
            for member in members {
                let entryPointer = ProtobufJSONError.pointer(pointer, member.key)
                let nested = try message(from: member.value, as: "google.protobuf.Value", at: entryPointer, depth: depth + 1)
                entries.append(.message(ProtobufMessageValue(typeName: "google.protobuf.Struct.FieldsEntry",
                                                             fields: [1: [.string(member.key)], 2: [.message(nested)]])))
            }
            return ProtobufMessageValue(typeName: typeName, fields: entries.isEmpty ? [:] : [1: entries])
        case .listValue:
            guard let elements = json.arrayValue else { throw fail("a JSON array") }
            var values: [ProtobufValue] = []
            for (index, element) in elements.enumerated() {
                values.append(.message(try message(from: element, as: "google.protobuf.Value",
                                                   at: ProtobufJSONError.pointer(pointer, String(index)), depth: depth + 1)))
            }
            return ProtobufMessageValue(typeName: typeName, fields: values.isEmpty ? [:] : [1: values])
        case .value:
            let kind: (Int64, ProtobufValue)
            switch json {
            case .null: kind = (1, .enumNumber(0))
            case .number(let text): kind = (2, .double(Double(text) ?? 0))
            case .string(let text): kind = (3, .string(text))
            case .bool(let flag): kind = (4, .bool(flag))
            case .object: kind = (5, .message(try message(from: json, as: "google.protobuf.Struct", at: pointer, depth: depth + 1)))
            case .array: kind = (6, .message(try message(from: json, as: "google.protobuf.ListValue", at: pointer, depth: depth + 1)))
            }
            return ProtobufMessageValue(typeName: typeName, fields: [kind.0: [kind.1]])
        case .any:
            guard let members = json.objectMembers else { throw fail("a JSON object with \"@type\"") }
            if members.isEmpty { return ProtobufMessageValue(typeName: typeName) }
            guard case .string(let typeURL)? = json["@type"] else {
                throw ProtobufJSONError(at: pointer, "an Any needs its \"@type\" member, a type URL such as \"type.googleapis.com/pkg.Message\"")
            }
            let payloadName = String(typeURL.split(separator: "/", omittingEmptySubsequences: false).last ?? "")
            let payload: [UInt8]
            if json["@unresolved"] != nil {
                guard case .string(let text)? = json["value"], let bytes = Self.base64(text) else {
                    throw ProtobufJSONError(at: ProtobufJSONError.pointer(pointer, "value"), "expected the payload's base64 bytes")
                }
                payload = bytes
            } else {
                guard schema.message(named: payloadName) != nil else {
                    throw ProtobufJSONError(at: ProtobufJSONError.pointer(pointer, "@type"),
                                            "type \(payloadName) of the Any is not defined in the loaded schema")
                }
                let rest = members.filter { $0.key != "@type" }
                let decoded: ProtobufMessageValue
                if ProtobufWellKnownType(fullName: payloadName) != nil {
                    decoded = try message(from: json["value"] ?? .null, as: payloadName,
                                          at: ProtobufJSONError.pointer(pointer, "value"), depth: depth + 1)
                } else {
                    guard let payloadDescriptor = schema.message(named: payloadName) else { throw fail("a known type") }
                    decoded = try message(fromMembers: rest, descriptor: payloadDescriptor, at: pointer, depth: depth + 1)
                }
                payload = ProtobufMessageEncoder(schema: schema).encode(decoded)
            }
            var fields: [Int64: [ProtobufValue]] = [1: [.string(typeURL)]]
            if !payload.isEmpty { fields[2] = [.bytes(payload)] }
            return ProtobufMessageValue(typeName: typeName, fields: fields)
        }
    }

    // MARK: Unknown fields

    /// The fields a member named by a field number stands for (an array: one per element).
    private func rawFields(number: UInt32, from json: JSONValue, at pointer: String,
                           depth: Int) throws(ProtobufJSONError) -> [RawProtobufField] {
        if case .array(let elements) = json {
            var fields: [RawProtobufField] = []
            for (index, element) in elements.enumerated() {
                fields += try rawFields(number: number, from: element, at: ProtobufJSONError.pointer(pointer, String(index)), depth: depth)
            }
            return fields
        }
        let value: RawProtobufValue
        switch json {
        case .number(let text):
            guard let number = UInt64(text) else { throw ProtobufJSONError(at: pointer, "expected an unsigned integer (a varint)") }
            value = .varint(number)
        case .string(let text):
            let digits = text.dropFirst(2)
            if text.hasPrefix("0x"), digits.count == 8, let fixed = UInt32(digits, radix: 16) {
                value = .fixed32(fixed)
            } else if text.hasPrefix("0x"), digits.count == 16, let fixed = UInt64(digits, radix: 16) {
                value = .fixed64(fixed)
            } else if let varint = UInt64(text), varint > 1 << 53 {
                // RawProtobufJSON writes varints above 2^53 as decimal strings, smaller ones as numbers.
                value = .varint(varint)
            } else {
                value = .lengthDelimited(ArraySlice(text.utf8), embedded: nil)
            }
        case .object(let members):
            if members.count == 1, members[0].key == "bytes", case .string(let text) = members[0].value {
                guard let bytes = Self.base64(text) else { throw ProtobufJSONError(at: pointer, "expected base64 bytes") }
                value = .lengthDelimited(ArraySlice(bytes), embedded: nil)
            } else {
                guard depth < maxDepth else { throw ProtobufJSONError(at: pointer, "messages nested deeper than \(maxDepth) levels") }
                var nested: [RawProtobufField] = []
                for member in members {
                    guard let inner = UInt32(member.key), ProtobufFieldTag.validFieldNumbers.contains(inner) else {
                        throw ProtobufJSONError(at: ProtobufJSONError.pointer(pointer, member.key), "an unknown field's message has field numbers as keys")
                    }
                    nested += try rawFields(number: inner, from: member.value,
                                            at: ProtobufJSONError.pointer(pointer, member.key), depth: depth + 1)
                }
                value = .lengthDelimited(ArraySlice(RawProtobufMessage(fields: nested).encoded()), embedded: nil)
            }
        default:
            throw ProtobufJSONError(at: pointer, "expected a number, string or object for unknown field \(number)")
        }
        return [RawProtobufField(number: number, value: value)]
    }

    // MARK: Scalars

    private static func acceptsNull(_ type: ProtoFieldType) -> Bool {
        type.name == ProtobufWellKnownType.nullValueEnum || type.name == "google.protobuf.Value"
    }

    /// An exact integer in `range` from a number (`3`, `3.0`, `3e2`) or, with `allowingText`, a string of one.
    private static func integer(_ json: JSONValue, in range: ClosedRange<Int64>, allowingText: Bool) -> Int64? {
        let text: String
        switch json {
        case .number(let literal): text = literal
        case .string(let literal) where allowingText: text = literal
        default: return nil
        }
        if let exact = Int64(text) { return range.contains(exact) ? exact : nil }
        guard let number = Double(text), number.isFinite, number == number.rounded(),
              number >= -9.223372036854775808e18, number < 9.223372036854775808e18 else { return nil }
        let exact = Int64(number)
        return range.contains(exact) ? exact : nil
    }

    private static func unsignedInteger(_ json: JSONValue, max: UInt64) -> UInt64? {
        let text: String
        switch json {
        case .number(let literal), .string(let literal): text = literal
        default: return nil
        }
        if let exact = UInt64(text) { return exact <= max ? exact : nil }
        guard let number = Double(text), number.isFinite, number == number.rounded(), number >= 0,
              number < 1.8446744073709551616e19 else { return nil }
        let exact = UInt64(number)
        return exact <= max ? exact : nil
    }

    private static func floating(_ json: JSONValue) -> Double? {
        switch json {
        case .number(let text): return Double(text)
        case .string("NaN"): return .nan
        case .string("Infinity"): return .infinity
        case .string("-Infinity"): return -.infinity
        case .string(let text):
            guard let number = Double(text), number.isFinite else { return nil }
            return number
        default: return nil
        }
    }

    /// Standard or URL-safe base64, with or without padding.
    private static func base64(_ text: String) -> [UInt8]? {
        let standard = String(text.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        return Base64.decode(standard, requirePadding: false)
    }

    private static func kind(of json: JSONValue) -> String {
        switch json {
        case .null: "null"
        case .bool(let flag): "\(flag)"
        case .number(let text): "the number \(text)"
        case .string(let text): "the string \(text.debugDescription)"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
