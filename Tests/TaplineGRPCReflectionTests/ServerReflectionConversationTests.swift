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

        actions = conversation.received(message: ScriptedReflectionServer.response(listing: ["shop.v1.Orders"])[...])
        XCTAssertEqual(try describe(actions), ["file_containing_symbol shop.v1.Orders"])

        // The server sends the service's file without the file it imports (as grpc-go may).
        actions = conversation.received(message: ScriptedReflectionServer.response(files: [ScriptedReflectionServer.ordersFile()])[...])
        XCTAssertEqual(try describe(actions), ["file_by_filename shop/v1/money.proto"])

        actions = conversation.received(message: ScriptedReflectionServer.response(files: [ScriptedReflectionServer.moneyFile()])[...])
        XCTAssertEqual(try describe(actions), ["finish call", "finished"])
        guard case .finished(let result)? = actions.last else { return XCTFail("not finished: \(actions)") }
        XCTAssertEqual(result.services, ["shop.v1.Orders"])
        XCTAssertEqual(result.rootFiles, ["shop/v1/orders.proto"])
        XCTAssertEqual(result.version, .v1)
        XCTAssertEqual(result.schema.service(named: "shop.v1.Orders")?.methods.map(\.name), ["Get"])
        XCTAssertEqual(result.schema.message(named: "shop.v1.Order")?.fields.map(\.name), ["id", "total"])
        XCTAssertNotNil(result.schema.message(named: "shop.v1.Money"))
        XCTAssertEqual(conversation.received(message: ScriptedReflectionServer.response(listing: [])[...]).count, 0, "nothing after the end")
    }

    func testFallsBackToV1AlphaWhenV1IsUnimplemented() throws {
        var conversation = ServerReflectionConversation(query: .symbol(".shop.v1.Order"), upstream: "h2c://127.0.0.1:1")
        XCTAssertEqual(try describe(conversation.start()), ["open v1", "file_containing_symbol shop.v1.Order"])

        let actions = conversation.callEnded(status: GRPCStatus(code: 12, message: "Method not found"))
        XCTAssertEqual(try describe(actions), ["open v1alpha", "file_containing_symbol shop.v1.Order"])
        XCTAssertEqual(ServerReflectionVersion.v1alpha.methodPath,
                       "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo")

        let done = conversation.received(message: ScriptedReflectionServer.response(files: [ScriptedReflectionServer.ordersFile(), ScriptedReflectionServer.moneyFile()])[...])
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
        let actions = conversation.received(message: ScriptedReflectionServer.response(error: 5, "Symbol not found: shop.v1.Nope")[...])
        guard case .failed(let error)? = actions.last else { return XCTFail("not failed: \(actions)") }
        XCTAssertEqual(error.kind, .notFound(request: "symbol shop.v1.Nope", code: 5, message: "Symbol not found: shop.v1.Nope"))

        var withTimestamp = ServerReflectionConversation(query: .symbol("shop.v1.Stamp"), upstream: "h2c://127.0.0.1:1")
        _ = withTimestamp.start()
        let asked = withTimestamp.received(message: ScriptedReflectionServer.response(files: [ScriptedReflectionServer.stampFile()])[...])
        XCTAssertEqual(try describe(asked), ["file_by_filename google/protobuf/timestamp.proto"])
        let done = withTimestamp.received(message: ScriptedReflectionServer.response(error: 5, "not found")[...])
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
}
