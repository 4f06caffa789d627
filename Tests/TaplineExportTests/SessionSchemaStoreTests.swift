import Foundation
@testable import TaplineCLI
import TaplineProtobuf
import XCTest

/// The schemas a session keeps (`schemas/index.json` and its descriptor sets): written
/// and read back as the same files, numbered per reflection answer, and merged under the
/// schema flags a command is given (the flags win for a file both hold).
final class SessionSchemaStoreTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "tapline-schemas-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func schema(_ name: String, _ text: String) throws -> ProtoSchema {
        try ProtoSchema(files: [ProtoParser.parse(text: text, name: name)])
    }

    private let orders = """
    syntax = "proto3";
    package shop.v1;
    message Order { string id = 1; repeated int64 amounts = 2; map<string, string> notes = 3; }
    service Orders { rpc Get (Order) returns (Order); }
    """

    func testAReflectedSchemaIsListedAndReadsBackAsTheSameFiles() throws {
        let store = SessionSchemaStore(sessionDirectory: directory)
        XCTAssertEqual(try store.entries(), [], "a session without schemas/ keeps none")
        let written = try schema("shop/v1/orders.proto", orders)
        let entry = try store.add(written, rootFiles: ["shop/v1/orders.proto"]) { file in
            SessionSchemaEntry(file: file, source: .reflection, upstream: "h2c://127.0.0.1:50051", paths: nil,
                               services: ["shop.v1.Orders"])
        }
        XCTAssertEqual(entry.file, "reflected-1.binpb")
        XCTAssertEqual(try store.entries(), [entry])
        for file in ["reflected-1.binpb", "index.json"] {
            let mode = try FileManager.default.attributesOfItem(atPath: "\(directory)/schemas/\(file)")[.posixPermissions] as? Int
            XCTAssertEqual(mode, 0o600, "\(file): a session's files are the user's alone")
        }
        let read = try ProtoSchema(files: store.files())
        XCTAssertEqual(read.file(named: "shop/v1/orders.proto")?.messages.map(\.name), ["Order"])
        XCTAssertEqual(read.file(named: "shop/v1/orders.proto")?.services.map(\.name), ["Orders"])
        XCTAssertNotNil(read.message(named: "shop.v1.Order"))
    }

    func testEachReflectionAnswerGetsTheNextNumberAfterAGivenSchema() throws {
        let store = SessionSchemaStore(sessionDirectory: directory)
        try store.add(try schema("given.proto", "syntax = \"proto3\"; package a; message A { int32 x = 1; }"),
                      rootFiles: ["given.proto"], name: "given.binpb") {
            SessionSchemaEntry(file: $0, source: .files, upstream: nil, paths: ["proto/"], services: [])
        }
        for upstream in ["h2c://127.0.0.1:1", "https://api.example:443"] {
            try store.add(try schema("shop/v1/orders.proto", orders), rootFiles: ["shop/v1/orders.proto"]) {
                SessionSchemaEntry(file: $0, source: .reflection, upstream: upstream, paths: nil, services: ["shop.v1.Orders"])
            }
        }
        XCTAssertEqual(try store.entries().map(\.file), ["given.binpb", "reflected-1.binpb", "reflected-2.binpb"])
        XCTAssertEqual(try store.files().map(\.name), ["given.proto", "shop/v1/orders.proto"],
                       "a file two sets hold is read once, from the first")
    }

    func testTheSchemaFlagsWinForAFileBothHold() throws {
        let store = SessionSchemaStore(sessionDirectory: directory)
        try store.add(try schema("shop/v1/orders.proto", orders), rootFiles: ["shop/v1/orders.proto"]) {
            SessionSchemaEntry(file: $0, source: .reflection, upstream: "h2c://127.0.0.1:1", paths: nil, services: [])
        }
        let root = directory + "/protos"
        try FileManager.default.createDirectory(atPath: root + "/shop/v1", withIntermediateDirectories: true)
        try """
        syntax = "proto3";
        package shop.v1;
        message Order { string id = 1; string flag_only = 9; }
        """.write(toFile: root + "/shop/v1/orders.proto", atomically: true, encoding: .utf8)
        var arguments = CommandArguments(["--proto", root + "/shop/v1/orders.proto", "--proto-path", root])
        let flags = try ProtoSchemaSources.optional(taking: &arguments)
        var warnings: [String] = []
        let merged = try SessionSchemaStore.decodingSchema(explicit: flags, sessionDirectories: [directory]) { warnings.append($0) }
        XCTAssertEqual(merged?.message(named: "shop.v1.Order")?.fields.map(\.name), ["id", "flag_only"],
                       "the flag's shop/v1/orders.proto, not the session's")
        XCTAssertEqual(warnings, [])
        let keptOnly = try SessionSchemaStore.decodingSchema(explicit: nil, sessionDirectories: [directory]) { warnings.append($0) }
        XCTAssertEqual(keptOnly?.message(named: "shop.v1.Order")?.fields.map(\.name), ["id", "amounts", "notes"])
        XCTAssertNil(try SessionSchemaStore.decodingSchema(explicit: nil, sessionDirectories: [directory + "/none"]) { warnings.append($0) })
        XCTAssertEqual(warnings, [])
    }

    func testAKeptSchemaThatClashesWithTheFlagsIsLeftOutWithAWarning() throws {
        let store = SessionSchemaStore(sessionDirectory: directory)
        try store.add(try schema("shop/v1/orders.proto", orders), rootFiles: ["shop/v1/orders.proto"]) {
            SessionSchemaEntry(file: $0, source: .reflection, upstream: "h2c://127.0.0.1:1", paths: nil, services: [])
        }
        let other = directory + "/other.proto"
        try "syntax = \"proto3\"; package shop.v1; message Order { string flag_only = 9; }"
            .write(toFile: other, atomically: true, encoding: .utf8)
        var arguments = CommandArguments(["--proto", other])
        var warnings: [String] = []
        let schema = try SessionSchemaStore.decodingSchema(explicit: try ProtoSchemaSources.optional(taking: &arguments),
                                                           sessionDirectories: [directory]) { warnings.append($0) }
        XCTAssertEqual(schema?.message(named: "shop.v1.Order")?.fields.map(\.name), ["flag_only"])
        XCTAssertEqual(warnings.count, 1, "\(warnings)")
    }

    func testAnUnreadableIndexIsAnErrorNamingIt() throws {
        try FileManager.default.createDirectory(atPath: directory + "/schemas", withIntermediateDirectories: true)
        try "not json".write(toFile: directory + "/schemas/index.json", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try SessionSchemaStore(sessionDirectory: directory).entries()) { error in
            XCTAssertTrue("\(error)".contains("schemas/index.json"), "\(error)")
        }
    }
}
