@testable import TaplineGRPCReflection
import TaplineProtobuf
import TaplineWire
import XCTest

/// The reflection conversation driven with scripted server responses, no sockets: what it
/// asks, in what order, and what it makes of the answers.
final class ServerReflectionConversationTests: XCTestCase {
    private typealias Action = ServerReflectionConversation.Action

    func testListsServicesThenFetchesEachServiceFileAndAMissingDependency() throws {
        var conversation = ServerReflectionConversation(query: .allServices, upstream: "h2c://127.0.0.1:1")
        var actions = conversation.start()
        XCTAssertEqual(try describe(actions), ["open v1", "list_services"])

        actions = conversation.received(message: response(listing: ["shop.v1.Orders"])[...])
        XCTAssertEqual(try describe(actions), ["file_containing_symbol shop.v1.Orders"])

        // The server sends the service's file without the file it imports (as grpc-go may).
        actions = conversation.received(message: response(files: [ordersFile()])[...])
        XCTAssertEqual(try describe(actions), ["file_by_filename shop/v1/money.proto"])

        actions = conversation.received(message: response(files: [moneyFile()])[...])
        XCTAssertEqual(try describe(actions), ["finish call", "finished"])
        guard case .finished(let result)? = actions.last else { return XCTFail("not finished: \(actions)") }
        XCTAssertEqual(result.services, ["shop.v1.Orders"])
        XCTAssertEqual(result.rootFiles, ["shop/v1/orders.proto"])
        XCTAssertEqual(result.version, .v1)
        XCTAssertEqual(result.schema.service(named: "shop.v1.Orders")?.methods.map(\.name), ["Get"])
        XCTAssertEqual(result.schema.message(named: "shop.v1.Order")?.fields.map(\.name), ["id", "total"])
        XCTAssertNotNil(result.schema.message(named: "shop.v1.Money"))
        XCTAssertEqual(conversation.received(message: response(listing: [])[...]).count, 0, "nothing after the end")
    }

    func testFallsBackToV1AlphaWhenV1IsUnimplemented() throws {
        var conversation = ServerReflectionConversation(query: .symbol(".shop.v1.Order"), upstream: "h2c://127.0.0.1:1")
        XCTAssertEqual(try describe(conversation.start()), ["open v1", "file_containing_symbol shop.v1.Order"])

        let actions = conversation.callEnded(status: GRPCStatus(code: 12, message: "Method not found"))
        XCTAssertEqual(try describe(actions), ["open v1alpha", "file_containing_symbol shop.v1.Order"])
        XCTAssertEqual(ServerReflectionVersion.v1alpha.methodPath,
                       "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo")

        let done = conversation.received(message: response(files: [ordersFile(), moneyFile()])[...])
        XCTAssertEqual(try describe(done), ["finish call", "finished"])
        guard case .finished(let result)? = done.last else { return XCTFail("not finished: \(done)") }
        XCTAssertEqual(result.version, .v1alpha)
        XCTAssertEqual(result.rootFiles, ["shop/v1/orders.proto"])
    }

    func testNoReflectionOnEitherVersionIsNotServed() throws {
        var conversation = ServerReflectionConversation(query: .allServices, upstream: "h2c://127.0.0.1:9")
        _ = conversation.start()
        _ = conversation.callEnded(status: GRPCStatus(code: 12, message: ""))
        let actions = conversation.callEnded(status: GRPCStatus(code: 12, message: ""))
        guard case .failed(let error)? = actions.last else { return XCTFail("not failed: \(actions)") }
        XCTAssertEqual(error.kind, .notServed)
        XCTAssertTrue(error.description.contains("h2c://127.0.0.1:9 does not serve gRPC server reflection"), error.description)
        XCTAssertTrue(error.description.contains("--proto or --descriptor-set"), error.description)
    }

    func testAnUnknownSymbolIsNotFoundAndAMissingWellKnownFileIsTakenFromTheBuiltIns() throws {
        var conversation = ServerReflectionConversation(query: .symbol("shop.v1.Nope"), upstream: "h2c://127.0.0.1:1")
        _ = conversation.start()
        let actions = conversation.received(message: response(error: 5, "Symbol not found: shop.v1.Nope")[...])
        guard case .failed(let error)? = actions.last else { return XCTFail("not failed: \(actions)") }
        XCTAssertEqual(error.kind, .notFound(request: "symbol shop.v1.Nope", code: 5, message: "Symbol not found: shop.v1.Nope"))

        var withTimestamp = ServerReflectionConversation(query: .symbol("shop.v1.Stamp"), upstream: "h2c://127.0.0.1:1")
        _ = withTimestamp.start()
        let asked = withTimestamp.received(message: response(files: [stampFile()])[...])
        XCTAssertEqual(try describe(asked), ["file_by_filename google/protobuf/timestamp.proto"])
        let done = withTimestamp.received(message: response(error: 5, "not found")[...])
        guard case .finished(let result)? = done.last else { return XCTFail("not finished: \(done)") }
        XCTAssertNotNil(result.schema.message(named: "google.protobuf.Timestamp"))
    }

    // MARK: Scripted server

    /// Each action in words, requests decoded as a server would.
    private func describe(_ actions: [Action]) throws -> [String] {
        try actions.map { action in
            switch action {
            case .openCall(let version): return "open \(version.rawValue)"
            case .finishCall: return "finish call"
            case .finished: return "finished"
            case .failed(let error): return "failed: \(error)"
            case .send(let bytes):
                let request = try ProtobufMessageDecoder(schema: ServerReflectionProto.schema)
                    .decode(bytes, as: ServerReflectionProto.requestType)
                for (number, name) in [(Int64(3), "file_by_filename"), (4, "file_containing_symbol"), (7, "list_services")] {
                    if case .string(let text)? = request[number] { return text.isEmpty ? name : "\(name) \(text)" }
                }
                return "unknown request"
            }
        }
    }

    private func response(listing services: [String]) -> [UInt8] {
        let list = ProtobufMessageValue(typeName: "grpc.reflection.v1.ListServiceResponse", fields: [
            1: services.map { .message(ProtobufMessageValue(typeName: "grpc.reflection.v1.ServiceResponse", fields: [1: [.string($0)]])) },
        ])
        return encodedResponse([6: [.message(list)]])
    }

    private func response(files: [[UInt8]]) -> [UInt8] {
        let set = ProtobufMessageValue(typeName: "grpc.reflection.v1.FileDescriptorResponse", fields: [1: files.map { .bytes($0) }])
        return encodedResponse([4: [.message(set)]])
    }

    private func response(error code: Int64, _ message: String) -> [UInt8] {
        let error = ProtobufMessageValue(typeName: "grpc.reflection.v1.ErrorResponse",
                                         fields: [1: [.signed(code)], 2: [.string(message)]])
        return encodedResponse([7: [.message(error)]])
    }

    private func encodedResponse(_ fields: [Int64: [ProtobufValue]]) -> [UInt8] {
        ProtobufMessageEncoder(schema: ServerReflectionProto.schema)
            .encode(ProtobufMessageValue(typeName: ServerReflectionProto.responseType, fields: fields))
    }

    // MARK: FileDescriptorProtos, as a server serializes them

    private static let descriptorSchema: ProtoSchema = {
        let name = "google/protobuf/descriptor.proto"
        // swiftlint:disable:next force_try
        return try! ProtoSchema(files: [try! ProtoParser.parse(text: WellKnownProtoFiles.byImportName[name]!, name: name)])
    }()

    private func ordersFile() -> [UInt8] {
        fileDescriptor(name: "shop/v1/orders.proto", dependencies: ["shop/v1/money.proto"], messages: [
            message("Order", fields: [field("id", 1, type: 9), field("total", 2, type: 11, typeName: ".shop.v1.Money")]),
        ], service: ("Orders", [("Get", ".shop.v1.Order", ".shop.v1.Order")]))
    }

    private func moneyFile() -> [UInt8] {
        fileDescriptor(name: "shop/v1/money.proto", dependencies: [], messages: [message("Money", fields: [field("units", 1, type: 3)])])
    }

    private func stampFile() -> [UInt8] {
        fileDescriptor(name: "shop/v1/stamp.proto", dependencies: ["google/protobuf/timestamp.proto"], messages: [
            message("Stamp", fields: [field("at", 1, type: 11, typeName: ".google.protobuf.Timestamp")]),
        ])
    }

    private func fileDescriptor(name: String, dependencies: [String], messages: [ProtobufMessageValue],
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
        return ProtobufMessageEncoder(schema: Self.descriptorSchema)
            .encode(ProtobufMessageValue(typeName: "google.protobuf.FileDescriptorProto", fields: fields))
    }

    private func message(_ name: String, fields: [ProtobufMessageValue]) -> ProtobufMessageValue {
        ProtobufMessageValue(typeName: "google.protobuf.DescriptorProto", fields: [1: [.string(name)], 2: fields.map { .message($0) }])
    }

    /// A singular (LABEL_OPTIONAL) field of descriptor type number `type`.
    private func field(_ name: String, _ number: Int64, type: Int32, typeName: String? = nil) -> ProtobufMessageValue {
        var fields: [Int64: [ProtobufValue]] = [1: [.string(name)], 3: [.signed(number)], 4: [.enumNumber(1)], 5: [.enumNumber(type)]]
        if let typeName { fields[6] = [.string(typeName)] }
        return ProtobufMessageValue(typeName: "google.protobuf.FieldDescriptorProto", fields: fields)
    }
}
