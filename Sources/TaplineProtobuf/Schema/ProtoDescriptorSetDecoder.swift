/// Turns a binary `google.protobuf.FileDescriptorSet` (what `protoc -o` / `--descriptor_set_out`
/// and `buf build -o` write) into the same `ProtoFile` model the `.proto` parser builds, so
/// both sources feed one `ProtoSchema`. The set is decoded with `ProtobufMessageDecoder` and
/// the built-in `descriptor.proto`; type names (`.pkg.Msg`) are left for `ProtoSchema` to
/// resolve. A dependency the set does not hold (written without `--include_imports`) is
/// taken from the built-in well-known types when it is one of them.
///
/// Source locations are unknown in a descriptor set: every location is line 0 of the file.
/// Field numbers and oneof indexes are checked (the decoders rely on them); other
/// inconsistencies surface as `ProtoSchema` errors.
/// Stateless; no I/O (`ProtoFileLoader` reads the file).
public enum ProtoDescriptorSetDecoder {
    /// The files of the set, in its order, plus the built-in files it depends on but lacks.
    /// - Parameter name: the set's path, for errors.
    public static func files(decoding bytes: [UInt8], name: String) throws(ProtoSchemaError) -> [ProtoFile] {
        let set: ProtobufMessageValue
        do {
            set = try ProtobufMessageDecoder(schema: descriptorSchema).decode(bytes, as: "google.protobuf.FileDescriptorSet")
        } catch {
            throw ProtoSchemaError(.invalidDescriptorSet(path: name, reason: error.description), at: nil)
        }
        var files = messages(set, 1).map(file)
        for file in files { try check(file, source: name) }
        var present = Set(files.map(\.name))
        var index = 0
        while index < files.count {
            for dependency in files[index].dependencies where !present.contains(dependency) {
                guard let text = WellKnownProtoFiles.byImportName[dependency] else { continue }
                files.append(try ProtoParser.parse(text: text, name: dependency))
                present.insert(dependency)
            }
            index += 1
        }
        return files
    }

    /// One serialized `google.protobuf.FileDescriptorProto` (what gRPC server reflection
    /// answers with) as a `ProtoFile`; its dependencies are left to the caller.
    /// - Parameter source: where the bytes came from, for errors.
    public static func file(decodingFileDescriptorProto bytes: ArraySlice<UInt8>,
                            source: String) throws(ProtoSchemaError) -> ProtoFile {
        let proto: ProtobufMessageValue
        do {
            proto = try ProtobufMessageDecoder(schema: descriptorSchema).decode(bytes, as: "google.protobuf.FileDescriptorProto")
        } catch {
            throw ProtoSchemaError(.invalidDescriptorSet(path: source, reason: error.description), at: nil)
        }
        let decoded = file(proto)
        try check(decoded, source: source)
        return decoded
    }

    /// Throws when a field of `file` is unusable for decoding (`firstInvalidField`).
    private static func check(_ file: ProtoFile, source: String) throws(ProtoSchemaError) {
        if let problem = firstInvalidField(in: file.messages) {
            throw ProtoSchemaError(.invalidDescriptorSet(path: source, reason: "\(file.name): \(problem)"), at: nil)
        }
    }

    /// A schema of the built-in `descriptor.proto`, for decoding sets.
    private static let descriptorSchema: ProtoSchema = {
        let name = "google/protobuf/descriptor.proto"
        // The built-in text is fixed and parses (ProtoFileLoaderTests); failing here is a build defect.
        guard let text = WellKnownProtoFiles.byImportName[name], let file = try? ProtoParser.parse(text: text, name: name),
              let schema = try? ProtoSchema(files: [file]) else { preconditionFailure("the built-in descriptor.proto does not load") }
        return schema
    }()

    private static func file(_ proto: ProtobufMessageValue) -> ProtoFile {
        var file = ProtoFile(name: string(proto, 1))
        let location = ProtoSourceLocation(file: file.name, line: 0, column: 0)
        file.package = string(proto, 2)
        file.syntax = switch string(proto, 12) {
        case "proto3": .proto3
        case "", "proto2": .proto2
        case let other: .edition(other)
        }
        let publicIndexes = Set(integers(proto, 10))
        let weakIndexes = Set(integers(proto, 11))
        file.imports = strings(proto, 3).enumerated().map { index, path in
            ProtoImport(path: path, kind: publicIndexes.contains(Int64(index)) ? .public : weakIndexes.contains(Int64(index)) ? .weak : .normal,
                        location: location)
        }
        let scope = file.package
        file.messages = messages(proto, 4).map { message($0, scope: scope, syntax: file.syntax, location: location) }
        file.enums = messages(proto, 5).map { enumeration($0, scope: scope, location: location) }
        file.services = messages(proto, 6).map { service($0, scope: scope, location: location) }
        file.deprecated = messages(proto, 8).first.flatMap { bool($0, 23) }
        return file
    }

    private static func message(_ proto: ProtobufMessageValue, scope: String, syntax: ProtoSyntax,
                                location: ProtoSourceLocation) -> ProtoMessage {
        let name = string(proto, 1)
        var message = ProtoMessage(name: name, fullName: join(scope, name), location: location)
        let fields = messages(proto, 2)
        let syntheticOneofs = Set(fields.filter { bool($0, 17) == true }.compactMap { integer($0, 9) })
        message.oneofs = messages(proto, 8).enumerated().map { index, oneof in
            ProtoOneof(name: string(oneof, 1), isSynthetic: syntheticOneofs.contains(Int64(index)))
        }
        message.fields = fields.map { field($0, syntax: syntax, location: location) }
        message.nestedMessages = messages(proto, 3).map { self.message($0, scope: message.fullName, syntax: syntax, location: location) }
        message.enums = messages(proto, 4).map { enumeration($0, scope: message.fullName, location: location) }
        message.extensionRanges = messages(proto, 5).map { ProtoNumberRange(start: integer($0, 1) ?? 0, end: (integer($0, 2) ?? 1) - 1) }
        message.reservedRanges = messages(proto, 9).map { ProtoNumberRange(start: integer($0, 1) ?? 0, end: (integer($0, 2) ?? 1) - 1) }
        message.reservedNames = strings(proto, 10)
        if let options = messages(proto, 7).first {
            message.isMapEntry = bool(options, 7) ?? false
            message.deprecated = bool(options, 3)
        }
        return message
    }

    private static func field(_ proto: ProtobufMessageValue, syntax: ProtoSyntax, location: ProtoSourceLocation) -> ProtoField {
        let name = string(proto, 1)
        let isProto3Optional = bool(proto, 17) ?? false
        let oneofIndex = integer(proto, 9).map { Int($0) }
        let cardinality: ProtoFieldCardinality = switch integer(proto, 4) {
        case 3: .repeated
        case 2: .required
        default: syntax == .proto3 && !isProto3Optional && oneofIndex == nil ? .singular : .optional
        }
        let typeName = string(proto, 6)
        let type: ProtoFieldType = switch integer(proto, 5) {
        case 1: .double
        case 2: .float
        case 3: .int64
        case 4: .uint64
        case 5: .int32
        case 6: .fixed64
        case 7: .fixed32
        case 8: .bool
        case 9: .string
        case 12: .bytes
        case 13: .uint32
        case 15: .sfixed32
        case 16: .sfixed64
        case 17: .sint32
        case 18: .sint64
        default: .named(typeName)  // 11 message, 14 enum (10, group, names a message too)
        }
        let defaultJSONName = ProtoField.defaultJSONName(for: name)
        let jsonName = proto.fields[10] == nil ? defaultJSONName : string(proto, 10)
        let options = messages(proto, 8).first
        return ProtoField(name: name, number: integer(proto, 3) ?? 0, jsonName: jsonName,
                          hasExplicitJSONName: jsonName != defaultJSONName, cardinality: cardinality,
                          isProto3Optional: isProto3Optional, type: type, oneofIndex: oneofIndex,
                          packedOption: options.flatMap { bool($0, 2) }, isPacked: false,
                          defaultValue: proto.fields[7] == nil ? nil : string(proto, 7),
                          deprecated: options.flatMap { bool($0, 3) }, location: location, typeLocation: location)
    }

    private static func enumeration(_ proto: ProtobufMessageValue, scope: String, location: ProtoSourceLocation) -> ProtoEnum {
        let name = string(proto, 1)
        var enumeration = ProtoEnum(name: name, fullName: join(scope, name), location: location)
        enumeration.values = messages(proto, 2).map { value in
            ProtoEnum.Value(name: string(value, 1), number: integer(value, 2) ?? 0,
                            deprecated: messages(value, 3).first.flatMap { bool($0, 1) }, location: location)
        }
        if let options = messages(proto, 3).first {
            enumeration.allowAlias = bool(options, 2)
            enumeration.deprecated = bool(options, 3)
        }
        enumeration.reservedRanges = messages(proto, 4).map { ProtoNumberRange(start: integer($0, 1) ?? 0, end: integer($0, 2) ?? 0) }
        enumeration.reservedNames = strings(proto, 5)
        return enumeration
    }

    private static func service(_ proto: ProtobufMessageValue, scope: String, location: ProtoSourceLocation) -> ProtoService {
        let name = string(proto, 1)
        var service = ProtoService(name: name, fullName: join(scope, name), location: location)
        service.methods = messages(proto, 2).map { method in
            ProtoService.Method(name: string(method, 1), inputType: string(method, 2), outputType: string(method, 3),
                                clientStreaming: bool(method, 5) ?? false, serverStreaming: bool(method, 6) ?? false,
                                deprecated: messages(method, 4).first.flatMap { bool($0, 33) },
                                location: location, inputTypeLocation: location, outputTypeLocation: location)
        }
        service.deprecated = messages(proto, 3).first.flatMap { bool($0, 33) }
        return service
    }

    /// What makes a field unusable for decoding (protoc never writes such a set): a number
    /// outside 1 ... 2^29 - 1, or a oneof index the message does not have.
    private static func firstInvalidField(in messages: [ProtoMessage]) -> String? {
        for message in messages {
            for field in message.fields {
                if !(1...Int64(ProtobufFieldTag.validFieldNumbers.upperBound)).contains(field.number) {
                    return "field \(message.fullName).\(field.name) has number \(field.number), outside 1 to 536870911"
                }
                if let index = field.oneofIndex, !message.oneofs.indices.contains(index) {
                    return "field \(message.fullName).\(field.name) names oneof \(index), which the message does not declare"
                }
            }
            if let problem = firstInvalidField(in: message.nestedMessages) { return problem }
        }
        return nil
    }

    private static func join(_ scope: String, _ name: String) -> String { scope.isEmpty ? name : scope + "." + name }

    private static func string(_ message: ProtobufMessageValue, _ number: Int64) -> String {
        if case .string(let text)? = message[number] { return text }
        return ""
    }

    private static func strings(_ message: ProtobufMessageValue, _ number: Int64) -> [String] {
        (message.fields[number] ?? []).compactMap { if case .string(let text) = $0 { text } else { nil } }
    }

    private static func integer(_ message: ProtobufMessageValue, _ number: Int64) -> Int64? {
        switch message[number] {
        case .signed(let value)?: value
        case .enumNumber(let value)?: Int64(value)
        default: nil
        }
    }

    private static func integers(_ message: ProtobufMessageValue, _ number: Int64) -> [Int64] {
        (message.fields[number] ?? []).compactMap { if case .signed(let value) = $0 { value } else { nil } }
    }

    private static func bool(_ message: ProtobufMessageValue, _ number: Int64) -> Bool? {
        if case .bool(let flag)? = message[number] { return flag }
        return nil
    }

    private static func messages(_ message: ProtobufMessageValue, _ number: Int64) -> [ProtobufMessageValue] {
        (message.fields[number] ?? []).compactMap { if case .message(let nested) = $0 { nested } else { nil } }
    }
}
