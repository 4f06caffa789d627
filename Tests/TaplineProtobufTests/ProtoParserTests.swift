import TaplineProtobuf
import XCTest

final class ProtoParserTests: XCTestCase {
    private func parse(_ text: String, name: String = "t.proto") throws -> ProtoFile {
        try ProtoParser.parse(text: text, name: name)
    }

    private func parseError(_ text: String) -> ProtoSchemaError? {
        do {
            _ = try parse(text)
            XCTFail("expected an error")
            return nil
        } catch {
            return error as? ProtoSchemaError
        }
    }

    func testSyntaxPackageAndImports() throws {
        let file = try parse("""
        syntax = "proto3";
        package a.b;
        import "x.proto";
        import public "y.proto";
        import weak "z.proto";
        option java_package = "com.x";
        option deprecated = true;
        """)
        XCTAssertEqual(file.syntax, .proto3)
        XCTAssertEqual(file.package, "a.b")
        XCTAssertEqual(file.imports.map(\.path), ["x.proto", "y.proto", "z.proto"])
        XCTAssertEqual(file.imports.map(\.kind), [.normal, .public, .weak])
        XCTAssertEqual(file.deprecated, true)
    }

    func testEditionLineIsAccepted() throws {
        XCTAssertEqual(try parse("edition = \"2023\";").syntax, .edition("2023"))
    }

    func testFileWithoutSyntaxIsProto2() throws {
        let file = try parse("message M { optional int32 a = 1; required string b = 2; repeated bytes c = 3; }")
        XCTAssertEqual(file.syntax, .proto2)
        XCTAssertEqual(file.messages[0].fields.map(\.cardinality), [.optional, .required, .repeated])
        XCTAssertFalse(file.messages[0].fields[0].isProto3Optional)
    }

    func testProto3LabelsAndSyntheticOneofs() throws {
        let message = try parse("""
        syntax = "proto3";
        message M {
          int32 plain = 1;
          optional int32 maybe = 2;
          oneof choice { string a = 3; bytes b = 4; }
          optional string _under = 5;
        }
        """).messages[0]
        XCTAssertEqual(message.fields.map(\.cardinality), [.singular, .optional, .optional, .optional, .optional])
        XCTAssertEqual(message.fields.map(\.isProto3Optional), [false, true, false, false, true])
        XCTAssertEqual(message.oneofs, [ProtoOneof(name: "choice", isSynthetic: false), ProtoOneof(name: "_maybe", isSynthetic: true),
                                        ProtoOneof(name: "X_under", isSynthetic: true)])
        XCTAssertEqual(message.fields.map(\.oneofIndex), [nil, 1, 0, 0, 2])
    }

    func testMapFieldBecomesRepeatedEntryMessage() throws {
        let message = try parse("syntax = \"proto3\"; package p; message M { map<string, M> item_counts = 1; }").messages[0]
        XCTAssertEqual(message.fields[0].cardinality, .repeated)
        XCTAssertEqual(message.fields[0].type, .message("p.M.ItemCountsEntry"))
        let entry = message.nestedMessages[0]
        XCTAssertEqual(entry.name, "ItemCountsEntry")
        XCTAssertTrue(entry.isMapEntry)
        XCTAssertEqual(entry.fields.map(\.name), ["key", "value"])
        XCTAssertEqual(entry.fields.map(\.type), [.string, .named("M")])
    }

    func testFieldOptions() throws {
        let fields = try parse("""
        message M {
          repeated int32 a = 1 [packed = true, deprecated = true];
          optional int32 b = 2 [default = -0x10, json_name = "bee", (custom.opt) = { x: 1 y { z: "}" } }];
          optional string c = 3 [default = "a" "b\\n"];
          optional double d = 4 [default = -inf];
        }
        """).messages[0].fields
        XCTAssertEqual(fields[0].packedOption, true)
        XCTAssertEqual(fields[0].deprecated, true)
        XCTAssertEqual(fields[1].defaultValue, "-16")
        XCTAssertEqual(fields[1].jsonName, "bee")
        XCTAssertTrue(fields[1].hasExplicitJSONName)
        XCTAssertEqual(fields[2].defaultValue, "ab\n")
        XCTAssertEqual(fields[3].defaultValue, "-inf")
    }

    func testJSONNameAsProtocComputesIt() {
        XCTAssertEqual(ProtoField.defaultJSONName(for: "foo_bar_baz"), "fooBarBaz")
        XCTAssertEqual(ProtoField.defaultJSONName(for: "_leading"), "Leading")
        XCTAssertEqual(ProtoField.defaultJSONName(for: "double__under"), "doubleUnder")
        XCTAssertEqual(ProtoField.defaultJSONName(for: "digit_1x"), "digit1x")
    }

    func testEnumsWithAliasesAndReserved() throws {
        let enumeration = try parse("""
        enum E { option allow_alias = true; A = 0; B = 0; C = -1 [deprecated = true]; reserved 2, 5 to 9, 20 to max; reserved "D"; }
        """).enums[0]
        XCTAssertEqual(enumeration.allowAlias, true)
        XCTAssertEqual(enumeration.values.map(\.number), [0, 0, -1])
        XCTAssertEqual(enumeration.values[2].deprecated, true)
        XCTAssertEqual(enumeration.reservedRanges, [ProtoNumberRange(start: 2, end: 2), ProtoNumberRange(start: 5, end: 9),
                                                    ProtoNumberRange(start: 20, end: Int64(Int32.max))])
        XCTAssertEqual(enumeration.reservedNames, ["D"])
    }

    func testServicesWithStreaming() throws {
        let service = try parse("""
        service S {
          rpc Unary (Req) returns (Res);
          rpc Server (Req) returns (stream Res) {}
          rpc Client (stream .p.Req) returns (Res) { option deprecated = true; }
          rpc Bidi (stream Req) returns (stream Res);
        }
        """).services[0]
        XCTAssertEqual(service.methods.map(\.callKind), ["unary", "server streaming", "client streaming", "bidi streaming"])
        XCTAssertEqual(service.methods[2].inputType, ".p.Req")
        XCTAssertEqual(service.methods[2].deprecated, true)
    }

    func testReservedExtensionsAndExtendAreParsed() throws {
        let file = try parse("""
        message M {
          optional int32 a = 1;
          reserved 2, 4 to 6, 1000 to max;
          reserved "b", "c";
          extensions 100 to 199;
          extend M { optional int32 ext = 100; }
        }
        extend M { optional string more = 101; }
        """)
        let message = file.messages[0]
        XCTAssertEqual(message.reservedRanges.last, ProtoNumberRange(start: 1000, end: ProtoParser.maxFieldNumber))
        XCTAssertEqual(message.reservedNames, ["b", "c"])
        XCTAssertEqual(message.extensionRanges, [ProtoNumberRange(start: 100, end: 199)])
        XCTAssertEqual(message.fields.map(\.name), ["a"])
        XCTAssertEqual(file.extendedTypes, ["M", "M"])
    }

    func testNestedTypesHaveFullNames() throws {
        let message = try parse("package p; message A { message B { enum C { X = 1; } } }").messages[0]
        XCTAssertEqual(message.nestedMessages[0].fullName, "p.A.B")
        XCTAssertEqual(message.nestedMessages[0].enums[0].fullName, "p.A.B.C")
    }

    func testGroupIsRejectedWithItsLocation() {
        let error = parseError("message M {\n  optional group Result = 1 { optional string url = 2; }\n}")
        XCTAssertEqual(error?.kind, .groupNotSupported("Result"))
        XCTAssertEqual(error?.location, ProtoSourceLocation(file: "t.proto", line: 2, column: 12))
    }

    func testDuplicateFieldNumberNamesBothFields() {
        let error = parseError("syntax = \"proto3\";\nmessage M {\n  int32 a = 1;\n  string b = 1;\n}")
        XCTAssertEqual(error?.kind, .duplicateNumber(number: 1, name: "b", previous: "a"))
        XCTAssertEqual(error?.description, "t.proto:4:10: number 1 of `b` is already used by `a`")
    }

    func testEnumAliasNeedsAllowAlias() {
        let error = parseError("syntax = \"proto3\";\nenum E {\n  A = 0;\n  B = 0;\n}")
        XCTAssertEqual(error?.kind, .enumAliasNotAllowed(number: 0, name: "B", previous: "A"))
        XCTAssertEqual(error?.location, ProtoSourceLocation(file: "t.proto", line: 4, column: 3))
    }

    func testReservedNumberAndOutOfRangeNumberAreErrors() {
        XCTAssertEqual(parseError("syntax = \"proto3\"; message M { reserved 3; int32 a = 3; }")?.location?.column, 50)
        XCTAssertNotNil(parseError("syntax = \"proto3\"; message M { int32 a = 0; }"))
        XCTAssertNotNil(parseError("syntax = \"proto3\"; message M { int32 a = 19500; }"))
        XCTAssertNotNil(parseError("syntax = \"proto3\"; message M { int32 a = 536870912; }"))
    }

    func testSyntaxErrorsSayWhatWasExpected() {
        let error = parseError("syntax = \"proto3\";\nmessage M {\n  string name = 1\n  int32 count = 2;\n}")
        XCTAssertEqual(error?.description, "t.proto:4:3: expected \";\", found \"int32\"")
        XCTAssertEqual(parseError("syntax = \"proto4\";")?.location?.column, 10)
        XCTAssertNotNil(parseError("message M {"))
        XCTAssertNotNil(parseError("message M { int32 a = 1; }"), "proto2 field without a label")
        XCTAssertNotNil(parseError("syntax = \"proto3\"; message M { int32 a = 1 [default = 3]; }"))
        XCTAssertNotNil(parseError("syntax = \"proto3\"; enum E { A = 1; }"), "proto3 enums start at 0")
    }
}
