import TaplineExport
import TaplineProtobuf
import TaplineWire

/// A `ProtoSchema` as the proto3 JSON form of a `google.protobuf.FileDescriptorSet`
/// (what Python's `json_format.MessageToDict` makes of `protoc --include_imports -o`),
/// for the fields Tapline's model holds. Fields at their default are left out, as
/// MessageToDict leaves them out; options appear only when the file sets them.
enum ProtoDescriptorSetJSON {
    /// `{"file": [...]}`: the `rootFiles` and everything they import, imports first.
    static func value(of schema: ProtoSchema, rootFiles: [String]) -> JSONValue {
        var needed = Set<String>()
        var pending = rootFiles
        while let name = pending.popLast() {
            guard needed.insert(name).inserted, let file = schema.file(named: name) else { continue }
            pending += file.dependencies
        }
        return .object([JSONMember("file", .array(schema.files.filter { needed.contains($0.name) }.map(fileValue)))])
    }

    private static func fileValue(_ file: ProtoFile) -> JSONValue {
        var members = [JSONMember("name", .string(file.name))]
        if !file.package.isEmpty { members.append(JSONMember("package", .string(file.package))) }
        if !file.imports.isEmpty { members.append(JSONMember("dependency", .array(file.dependencies.map(JSONValue.string)))) }
        let publicIndexes = file.imports.indices.filter { file.imports[$0].kind == .public }
        if !publicIndexes.isEmpty { members.append(JSONMember("publicDependency", .array(publicIndexes.map(JSONValue.integer)))) }
        let weakIndexes = file.imports.indices.filter { file.imports[$0].kind == .weak }
        if !weakIndexes.isEmpty { members.append(JSONMember("weakDependency", .array(weakIndexes.map(JSONValue.integer)))) }
        appendArray("messageType", file.messages.map(messageValue), to: &members)
        appendArray("enumType", file.enums.map(enumValue), to: &members)
        appendArray("service", file.services.map(serviceValue), to: &members)
        appendOptions([("deprecated", file.deprecated)], to: &members)
        switch file.syntax {
        case .proto2: break
        case .proto3: members.append(JSONMember("syntax", .string("proto3")))
        case .edition: members.append(JSONMember("syntax", .string("editions")))
        }
        return .object(members)
    }

    private static func messageValue(_ message: ProtoMessage) -> JSONValue {
        var members = [JSONMember("name", .string(message.name))]
        appendArray("field", message.fields.map(fieldValue), to: &members)
        appendArray("nestedType", message.nestedMessages.map(messageValue), to: &members)
        appendArray("enumType", message.enums.map(enumValue), to: &members)
        appendArray("extensionRange", message.extensionRanges.map { rangeValue($0, exclusiveEnd: true) }, to: &members)
        appendArray("oneofDecl", message.oneofs.map { .object([JSONMember("name", .string($0.name))]) }, to: &members)
        appendOptions([("mapEntry", message.isMapEntry ? true : nil), ("deprecated", message.deprecated)], to: &members)
        appendArray("reservedRange", message.reservedRanges.map { rangeValue($0, exclusiveEnd: true) }, to: &members)
        appendArray("reservedName", message.reservedNames.map(JSONValue.string), to: &members)
        return .object(members)
    }

    private static func fieldValue(_ field: ProtoField) -> JSONValue {
        var members = [JSONMember("name", .string(field.name)), JSONMember("number", .integer(field.number))]
        let label = switch field.cardinality {
        case .repeated: "LABEL_REPEATED"
        case .required: "LABEL_REQUIRED"
        case .singular, .optional: "LABEL_OPTIONAL"
        }
        members.append(JSONMember("label", .string(label)))
        switch field.type {
        case .message(let name):
            members.append(JSONMember("type", .string("TYPE_MESSAGE")))
            members.append(JSONMember("typeName", .string("." + name)))
        case .enum(let name), .named(let name):
            members.append(JSONMember("type", .string("TYPE_ENUM")))
            members.append(JSONMember("typeName", .string("." + name)))
        default:
            members.append(JSONMember("type", .string("TYPE_" + field.type.name.uppercased())))
        }
        if let value = field.defaultValue { members.append(JSONMember("defaultValue", .string(value))) }
        if let index = field.oneofIndex { members.append(JSONMember("oneofIndex", .integer(index))) }
        members.append(JSONMember("jsonName", .string(field.jsonName)))
        appendOptions([("packed", field.packedOption), ("deprecated", field.deprecated)], to: &members)
        if field.isProto3Optional { members.append(JSONMember("proto3Optional", .bool(true))) }
        return .object(members)
    }

    private static func enumValue(_ enumeration: ProtoEnum) -> JSONValue {
        var members = [JSONMember("name", .string(enumeration.name))]
        appendArray("value", enumeration.values.map { value in
            var valueMembers = [JSONMember("name", .string(value.name)), JSONMember("number", .integer(value.number))]
            appendOptions([("deprecated", value.deprecated)], to: &valueMembers)
            return .object(valueMembers)
        }, to: &members)
        appendOptions([("allowAlias", enumeration.allowAlias), ("deprecated", enumeration.deprecated)], to: &members)
        appendArray("reservedRange", enumeration.reservedRanges.map { rangeValue($0, exclusiveEnd: false) }, to: &members)
        appendArray("reservedName", enumeration.reservedNames.map(JSONValue.string), to: &members)
        return .object(members)
    }

    private static func serviceValue(_ service: ProtoService) -> JSONValue {
        var members = [JSONMember("name", .string(service.name))]
        appendArray("method", service.methods.map { method in
            var methodMembers = [JSONMember("name", .string(method.name)),
                                 JSONMember("inputType", .string("." + method.inputType)),
                                 JSONMember("outputType", .string("." + method.outputType))]
            appendOptions([("deprecated", method.deprecated)], to: &methodMembers)
            if method.clientStreaming { methodMembers.append(JSONMember("clientStreaming", .bool(true))) }
            if method.serverStreaming { methodMembers.append(JSONMember("serverStreaming", .bool(true))) }
            return .object(methodMembers)
        }, to: &members)
        appendOptions([("deprecated", service.deprecated)], to: &members)
        return .object(members)
    }

    /// Messages write ranges with an exclusive end, enums with an inclusive one.
    private static func rangeValue(_ range: ProtoNumberRange, exclusiveEnd: Bool) -> JSONValue {
        .object([JSONMember("start", .integer(range.start)), JSONMember("end", .integer(exclusiveEnd ? range.end + 1 : range.end))])
    }

    private static func appendArray(_ key: String, _ elements: [JSONValue], to members: inout [JSONMember]) {
        if !elements.isEmpty { members.append(JSONMember(key, .array(elements))) }
    }

    /// An `options` object with the options that are set; nothing when none is.
    private static func appendOptions(_ options: [(String, Bool?)], to members: inout [JSONMember]) {
        let set = options.compactMap { name, value in value.map { JSONMember(name, .bool($0)) } }
        if !set.isEmpty { members.append(JSONMember("options", .object(set))) }
    }
}
