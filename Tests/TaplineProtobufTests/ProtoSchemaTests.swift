import TaplineProtobuf
import XCTest

final class ProtoSchemaTests: XCTestCase {
    private func schema(_ files: [String: String]) throws -> ProtoSchema {
        var parsed: [ProtoFile] = []
        for (name, text) in files.sorted(by: { $0.key < $1.key }) {
            parsed.append(try ProtoParser.parse(text: text, name: name))
        }
        return try ProtoSchema(files: parsed)
    }

    private func schemaError(_ files: [String: String]) -> ProtoSchemaError? {
        do {
            _ = try schema(files)
            XCTFail("expected an error")
            return nil
        } catch {
            return error as? ProtoSchemaError
        }
    }

    private func fieldTypes(_ schema: ProtoSchema, _ message: String) -> [String: ProtoFieldType] {
        Dictionary(uniqueKeysWithValues: (schema.message(named: message)?.fields ?? []).map { ($0.name, $0.type) })
    }

    func testInnermostScopeShadowsOuter() throws {
        let schema = try schema(["a.proto": """
        syntax = "proto3";
        package p;
        message Item { int32 x = 1; }
        message Shelf {
          message Item { int32 y = 1; }
          Item nearest = 1;
          .p.Item absolute = 2;
          p.Item via_package = 3;
          message Box { Item inner = 1; Shelf.Item qualified = 2; }
        }
        """])
        XCTAssertEqual(fieldTypes(schema, "p.Shelf"),
                       ["nearest": .message("p.Shelf.Item"), "absolute": .message("p.Item"), "via_package": .message("p.Item")])
        XCTAssertEqual(fieldTypes(schema, "p.Shelf.Box"), ["inner": .message("p.Shelf.Item"), "qualified": .message("p.Shelf.Item")])
    }

    func testCompoundNameStopsAtTheFirstMatchOfItsFirstPart() {
        // `Inner.Leaf` finds `Outer.Inner` first, which has no Leaf: protoc does not search outward again.
        let error = schemaError(["a.proto": """
        syntax = "proto3";
        message Inner { message Leaf {} }
        message Outer {
          message Inner {}
          Inner.Leaf leaf = 1;
        }
        """])
        guard case .unknownType(let name, _, _)? = error?.kind else { return XCTFail("\(String(describing: error))") }
        XCTAssertEqual(name, "Inner.Leaf")
        XCTAssertEqual(error?.location, ProtoSourceLocation(file: "a.proto", line: 5, column: 3))
    }

    func testEnumsAndPackedDefaults() throws {
        let schema = try schema(["a.proto": """
        syntax = "proto3";
        package p;
        enum Color { RED = 0; }
        message M {
          Color color = 1;
          repeated Color colors = 2;
          repeated int32 numbers = 3;
          repeated int32 loose = 4 [packed = false];
          repeated string names = 5;
        }
        """, "b.proto": """
        syntax = "proto2";
        message N { repeated int32 numbers = 1; repeated int32 tight = 2 [packed = true]; optional p.Color c = 3 [default = RED]; }
        import "a.proto";
        """])
        let fields = schema.message(named: "p.M")!.fields
        XCTAssertEqual(fields[0].type, .enum("p.Color"))
        XCTAssertEqual(fields.map(\.isPacked), [false, true, true, false, false])
        XCTAssertEqual(schema.message(named: "N")!.fields.map(\.isPacked), [false, true, false])
        XCTAssertEqual(schema.message(named: "N")!.fields[2].defaultValue, "RED")
    }

    func testFilesComeAfterTheirImports() throws {
        let schema = try schema([
            "a.proto": "syntax = \"proto3\"; import \"b.proto\"; message A { B b = 1; }",
            "b.proto": "syntax = \"proto3\"; import \"c.proto\"; message B { C c = 1; }",
            "c.proto": "syntax = \"proto3\"; message C {}",
        ])
        XCTAssertEqual(schema.files.map(\.name), ["c.proto", "b.proto", "a.proto"])
        XCTAssertEqual(schema.fileName(definingSymbol: ".B"), "b.proto")
    }

    func testPublicImportsAreVisibleButPlainTransitiveOnesAreNot() throws {
        let base = "syntax = \"proto3\"; package base; message Base {}"
        XCTAssertNoThrow(try schema([
            "a.proto": "syntax = \"proto3\"; import \"r.proto\"; message A { base.Base b = 1; }",
            "r.proto": "syntax = \"proto3\"; import public \"base.proto\";",
            "base.proto": base,
        ]))
        let error = schemaError([
            "a.proto": "syntax = \"proto3\"; import \"r.proto\"; message A { base.Base b = 1; }",
            "r.proto": "syntax = \"proto3\"; import \"base.proto\";",
            "base.proto": base,
        ])
        XCTAssertEqual(error?.location?.file, "a.proto")
    }

    func testUnknownTypeSuggestsTheClosestName() {
        let error = schemaError(["orders.proto": """
        syntax = "proto3";
        package shop;
        message Item {}
        message Order {
          repeated Itme items = 1;
        }
        """])
        XCTAssertEqual(error?.description, "orders.proto:5:12: unknown type `Itme` in field `items` (did you mean `Item`?)")
    }

    func testServiceAsFieldTypeAndEnumAsRPCInputAreErrors() {
        XCTAssertEqual(schemaError(["a.proto": "syntax = \"proto3\"; service S {} message M { S s = 1; }"])?.kind,
                       .wrongKindOfType(name: "S", found: "a service", usedBy: "field `s`"))
        XCTAssertEqual(schemaError(["a.proto": "syntax = \"proto3\"; enum E { Z = 0; } message M {} service S { rpc R (E) returns (M); }"])?.kind,
                       .wrongKindOfType(name: "E", found: "an enum", usedBy: "rpc `R`"))
    }

    func testMissingImportAndDuplicateDefinitionsAreErrors() {
        let missing = schemaError(["a.proto": "syntax = \"proto3\";\nimport \"gone.proto\";"])
        XCTAssertEqual(missing?.kind, .importNotFound(path: "gone.proto", roots: []))
        XCTAssertEqual(missing?.location, ProtoSourceLocation(file: "a.proto", line: 2, column: 1))
        XCTAssertNotNil(schemaError(["a.proto": "syntax = \"proto3\"; package p; message M {}",
                                     "b.proto": "syntax = \"proto3\"; package p; message M {}"]))
    }

    func testImportCycleIsAnError() {
        let error = schemaError(["a.proto": "import \"b.proto\";", "b.proto": "\nimport \"a.proto\";"])
        XCTAssertEqual(error?.kind, .importCycle(["a.proto", "b.proto", "a.proto"]))
        XCTAssertEqual(error?.location, ProtoSourceLocation(file: "b.proto", line: 2, column: 1))
    }

    func testSymbolLookupFindsMethods() throws {
        let schema = try schema(["a.proto": "syntax = \"proto3\"; package p.v1; message M {} service S { rpc Get (M) returns (stream M); }"])
        guard case .method(let method, let service)? = schema.symbol(named: ".p.v1.S.Get") else { return XCTFail() }
        XCTAssertEqual(method.outputType, "p.v1.M")
        XCTAssertEqual(service.fullName, "p.v1.S")
        XCTAssertEqual(schema.symbol(named: "p"), .package("p"))
        XCTAssertNil(schema.symbol(named: "p.v1.S.Put"))
    }

    func testWellKnownTypesParseAndResolve() throws {
        var files: [ProtoFile] = []
        for (name, text) in WellKnownProtoFiles.byImportName {
            files.append(try ProtoParser.parse(text: text, name: name))
        }
        let schema = try ProtoSchema(files: files)
        XCTAssertEqual(schema.message(named: "google.protobuf.Timestamp")?.fields.map(\.name), ["seconds", "nanos"])
        XCTAssertEqual(schema.message(named: "google.protobuf.Value")?.oneofs.map(\.name), ["kind"])
        XCTAssertEqual(schema.message(named: "google.protobuf.Struct")?.fields.first?.type, .message("google.protobuf.Struct.FieldsEntry"))
    }
}
