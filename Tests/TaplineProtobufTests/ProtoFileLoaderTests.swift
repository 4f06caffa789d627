import Foundation
import TaplineProtobuf
import XCTest

final class ProtoFileLoaderTests: XCTestCase {
    private var root = ""

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "proto-loader-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root + "/api/shop/v1", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/third_party/money", withIntermediateDirectories: true)
        try write("api/shop/v1/orders.proto", """
        syntax = "proto3";
        package shop.v1;
        import "money/money.proto";
        import "google/protobuf/timestamp.proto";
        message Order { money.Money total = 1; google.protobuf.Timestamp at = 2; }
        """)
        try write("third_party/money/money.proto", "syntax = \"proto3\"; package money; message Money { int64 units = 1; }")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: root)
    }

    private func write(_ name: String, _ text: String) throws {
        try text.write(toFile: root + "/" + name, atomically: true, encoding: .utf8)
    }

    func testImportsResolveAgainstRootsAndTheBuiltInWellKnownTypes() throws {
        var loader = ProtoFileLoader(importRoots: [root + "/api", root + "/./third_party/"])
        let names = try loader.fileNames(for: [root + "/api/shop/../shop/v1/orders.proto"])
        XCTAssertEqual(names, ["shop/v1/orders.proto"])
        let schema = try loader.schema(fileNames: names)
        XCTAssertEqual(schema.files.map(\.name), ["money/money.proto", "google/protobuf/timestamp.proto", "shop/v1/orders.proto"])
        XCTAssertEqual(schema.message(named: "shop.v1.Order")?.fields.map(\.type),
                       [.message("money.Money"), .message("google.protobuf.Timestamp")])
    }

    func testADirectoryUnderNoRootBecomesOne() throws {
        var loader = ProtoFileLoader(importRoots: [root + "/third_party"])
        XCTAssertEqual(try loader.fileNames(for: [root + "/api"]), ["shop/v1/orders.proto"])
        XCTAssertEqual(loader.importRoots.last, root + "/api")
    }

    func testMissingImportNamesTheImportLineAndTheRootsSearched() throws {
        var loader = ProtoFileLoader(importRoots: [root + "/api"])
        let names = try loader.fileNames(for: [root + "/api/shop/v1/orders.proto"])
        XCTAssertThrowsError(try loader.schema(fileNames: names)) { error in
            let schemaError = error as? ProtoSchemaError
            XCTAssertEqual(schemaError?.kind, .importNotFound(path: "money/money.proto", roots: [root + "/api"]))
            XCTAssertEqual(schemaError?.location, ProtoSourceLocation(file: "shop/v1/orders.proto", line: 3, column: 1))
        }
    }

    func testMissingFileIsAnError() {
        var loader = ProtoFileLoader(importRoots: [])
        XCTAssertThrowsError(try loader.fileNames(for: [root + "/absent.proto"])) { error in
            XCTAssertEqual((error as? ProtoSchemaError)?.kind, .unreadableFile(path: root + "/absent.proto", reason: "no such file or directory"))
        }
    }
}
