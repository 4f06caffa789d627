import TaplineProtobuf

/// A `ProtoSchema` as a binary `google.protobuf.FileDescriptorSet` (what `protoc -o`
/// writes and `--descriptor-set` reads): `ProtoDescriptorSetJSON`'s proto3 JSON of the
/// set, read with the built-in `descriptor.proto` and encoded. It holds what Tapline's
/// model holds, which is what decoding needs. Stateless; no I/O.
enum ProtoDescriptorSetBinary {
    /// The set of `rootFiles` and everything they import, imports first.
    static func bytes(of schema: ProtoSchema, rootFiles: [String]) -> [UInt8] {
        let json = ProtoDescriptorSetJSON.value(of: schema, rootFiles: rootFiles)
        do {
            let set = try ProtobufJSONReader(schema: descriptorSchema).message(from: json, as: "google.protobuf.FileDescriptorSet")
            return ProtobufMessageEncoder(schema: descriptorSchema).encode(set)
        } catch {
            // ProtoDescriptorSetJSON writes only fields descriptor.proto defines.
            preconditionFailure("the descriptor set's JSON does not read back: \(error)")
        }
    }

    private static let descriptorSchema: ProtoSchema = {
        let name = "google/protobuf/descriptor.proto"
        guard let text = WellKnownProtoFiles.byImportName[name],
              let schema = try? ProtoSchema(files: [ProtoParser.parse(text: text, name: name)]) else {
            preconditionFailure("the built-in descriptor.proto does not load")
        }
        return schema
    }()
}
