@testable import TaplineGRPCReflection
import TaplineProtobuf

/// What a reflection server says, as bytes: `ServerReflectionResponse`s and the
/// serialized `FileDescriptorProto`s in them, for a small `shop.v1` schema
/// (`orders.proto` imports `money.proto`; `stamp.proto` imports the well-known Timestamp).
enum ScriptedReflectionServer {
    static func response(listing services: [String]) -> [UInt8] {
        let list = ProtobufMessageValue(typeName: "grpc.reflection.v1.ListServiceResponse", fields: [
            1: services.map { .message(ProtobufMessageValue(typeName: "grpc.reflection.v1.ServiceResponse", fields: [1: [.string($0)]])) },
        ])
        return encodedResponse([6: [.message(list)]])
    }

    static func response(files: [[UInt8]]) -> [UInt8] {
        let set = ProtobufMessageValue(typeName: "grpc.reflection.v1.FileDescriptorResponse", fields: [1: files.map { .bytes($0) }])
        return encodedResponse([4: [.message(set)]])
    }

    static func response(error code: Int64, _ message: String) -> [UInt8] {
        let error = ProtobufMessageValue(typeName: "grpc.reflection.v1.ErrorResponse",
                                         fields: [1: [.signed(code)], 2: [.string(message)]])
        return encodedResponse([7: [.message(error)]])
    }

    private static func encodedResponse(_ fields: [Int64: [ProtobufValue]]) -> [UInt8] {
        ProtobufMessageEncoder(schema: ServerReflectionProto.schema)
            .encode(ProtobufMessageValue(typeName: ServerReflectionProto.responseType, fields: fields))
    }

    // MARK: FileDescriptorProtos, as a server serializes them

    private static let descriptorSchema: ProtoSchema = {
        let name = "google/protobuf/descriptor.proto"
        // swiftlint:disable:next force_try
        return try! ProtoSchema(files: [try! ProtoParser.parse(text: WellKnownProtoFiles.byImportName[name]!, name: name)])
    }()

    static func ordersFile() -> [UInt8] {
        fileDescriptor(name: "shop/v1/orders.proto", dependencies: ["shop/v1/money.proto"], messages: [
            message("Order", fields: [field("id", 1, type: 9), field("total", 2, type: 11, typeName: ".shop.v1.Money")]),
        ], service: ("Orders", [("Get", ".shop.v1.Order", ".shop.v1.Order")]))
    }

    static func moneyFile() -> [UInt8] {
        fileDescriptor(name: "shop/v1/money.proto", dependencies: [], messages: [message("Money", fields: [field("units", 1, type: 3)])])
    }

    static func stampFile() -> [UInt8] {
        fileDescriptor(name: "shop/v1/stamp.proto", dependencies: ["google/protobuf/timestamp.proto"], messages: [
            message("Stamp", fields: [field("at", 1, type: 11, typeName: ".google.protobuf.Timestamp")]),
        ])
    }

    private static func fileDescriptor(name: String, dependencies: [String], messages: [ProtobufMessageValue],
                                service: (String, [(String, String, String)])? = nil) -> [UInt8] {
        var fields: [Int64: [ProtobufValue]] = [1: [.string(name)], 2: [.string("shop.v1")], 12: [.string("proto3")]]
        fields[3] = dependencies.map { .string($0) }
        fields[4] = messages.map { .message($0) }
        if let (serviceName, methods) = service {
            let methodValues: [ProtobufValue] = methods.map { method in
                .message(ProtobufMessageValue(typeName: "google.protobuf.MethodDescriptorProto",
                                              fields: [1: [.string(method.0)], 2: [.string(method.1)], 3: [.string(method.2)]]))
            }
            fields[6] = [.message(ProtobufMessageValue(typeName: "google.protobuf.ServiceDescriptorProto",
                                                       fields: [1: [.string(serviceName)], 2: methodValues]))]
        }
        return ProtobufMessageEncoder(schema: descriptorSchema)
            .encode(ProtobufMessageValue(typeName: "google.protobuf.FileDescriptorProto", fields: fields))
    }

    private static func message(_ name: String, fields: [ProtobufMessageValue]) -> ProtobufMessageValue {
        ProtobufMessageValue(typeName: "google.protobuf.DescriptorProto", fields: [1: [.string(name)], 2: fields.map { .message($0) }])
    }

    /// A singular (LABEL_OPTIONAL) field of descriptor type number `type`.
    private static func field(_ name: String, _ number: Int64, type: Int32, typeName: String? = nil) -> ProtobufMessageValue {
        var fields: [Int64: [ProtobufValue]] = [1: [.string(name)], 3: [.signed(number)], 4: [.enumNumber(1)], 5: [.enumNumber(type)]]
        if let typeName { fields[6] = [.string(typeName)] }
        return ProtobufMessageValue(typeName: "google.protobuf.FieldDescriptorProto", fields: fields)
    }
}

extension ScriptedReflectionServer {
    /// The answer to one `ServerReflectionRequest`: the service list (`shop.v1.Orders`), the
    /// orders file for a symbol of it (without its dependency), the money file by name, else NOT_FOUND.
    static func answer(to request: [UInt8]) -> [UInt8] {
        guard let message = try? ProtobufMessageDecoder(schema: ServerReflectionProto.schema)
            .decode(request, as: ServerReflectionProto.requestType) else { return response(error: 3, "not a request") }
        if message[ServerReflectionProto.RequestField.listServices] != nil {
            return response(listing: ["shop.v1.Orders"])
        }
        if case .string(let symbol)? = message[ServerReflectionProto.RequestField.fileContainingSymbol], symbol.hasPrefix("shop.v1.Order") {
            return response(files: [ordersFile()])
        }
        if case .string("shop/v1/money.proto")? = message[ServerReflectionProto.RequestField.fileByFilename] {
            return response(files: [moneyFile()])
        }
        return response(error: 5, "not found")
    }
}
