import TaplineProtobuf
import TaplineWire
import XCTest

/// Schema-driven decode and encode and the proto3 JSON mapping, both ways: each scalar at
/// its edges, maps, oneofs, nesting, unknown fields, every well-known type, errors with
/// their JSON Pointers. (`Tests/integration/test_protobuf_json.py` holds the same against
/// Python's json_format.)
final class ProtobufJSONTests: XCTestCase {
    private static let testProto = """
    syntax = "proto3";
    package t;
    import "google/protobuf/any.proto";
    import "google/protobuf/duration.proto";
    import "google/protobuf/field_mask.proto";
    import "google/protobuf/struct.proto";
    import "google/protobuf/timestamp.proto";
    import "google/protobuf/wrappers.proto";
    enum Kind { KIND_NONE = 0; KIND_A = 1; }
    message Scalars {
      int32 i32 = 1; int64 i64 = 2; uint32 u32 = 3; uint64 u64 = 4; sint32 s32 = 5; sint64 s64 = 6;
      fixed32 f32 = 7; fixed64 f64 = 8; sfixed32 sf32 = 9; sfixed64 sf64 = 10; float fl = 11; double db = 12;
      bool flag = 13; string text = 14; bytes blob = 15; Kind kind = 16; optional int32 maybe = 17;
      repeated int32 packed = 18; repeated sint64 unpacked = 19 [packed = false];
    }
    message Node {
      string name = 1 [json_name = "label"];
      Node child = 2;
      map<int64, Node> by_id = 3;
      oneof pick { int32 number = 4; string word = 5; }
      google.protobuf.Timestamp at = 6;
      google.protobuf.Duration took = 7;
      google.protobuf.Any extra = 8;
      google.protobuf.Struct meta = 9;
      google.protobuf.FieldMask mask = 10;
      google.protobuf.UInt64Value big = 11;
      google.protobuf.Value any_value = 12;
    }
    """

    private static let schema: ProtoSchema = {
        var files = [try! ProtoParser.parse(text: testProto, name: "t.proto")]
        for name in ["any", "duration", "field_mask", "struct", "timestamp", "wrappers"] {
            let path = "google/protobuf/\(name).proto"
            files.append(try! ProtoParser.parse(text: WellKnownProtoFiles.byImportName[path]!, name: path))
        }
        return try! ProtoSchema(files: files)
    }()

    private func json(_ bytes: [UInt8], _ type: String, defaults: Bool = false) throws -> String {
        let message = try ProtobufMessageDecoder(schema: Self.schema).decode(bytes, as: type)
        return JSONWriter.text(try ProtobufJSONPrinter(schema: Self.schema, includeDefaultValues: defaults).json(for: message), indent: nil)
    }

    private func encode(_ text: String, _ type: String) throws -> [UInt8] {
        let message = try ProtobufJSONReader(schema: Self.schema).message(from: try JSONParser.parse(Array(text.utf8)), as: type)
        return ProtobufMessageEncoder(schema: Self.schema).encode(message)
    }

    /// JSON → bytes → JSON gives `expected` (default: the input).
    private func assertRoundTrip(_ text: String, _ type: String, expected: String? = nil,
                                 file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(try json(try encode(text, type), type), expected ?? text, file: file, line: line)
    }

    private func jsonError(_ text: String, _ type: String) -> ProtobufJSONError? {
        do {
            _ = try encode(text, type)
            XCTFail("expected an error for \(text)")
            return nil
        } catch {
            return error as? ProtobufJSONError
        }
    }

    func testScalarEdgesAndTheirJSONForms() throws {
        try assertRoundTrip(#"{"i32":-2147483648,"i64":"-9223372036854775808","u32":4294967295,"u64":"18446744073709551615","s32":-1,"s64":"9223372036854775807","f32":4294967295,"f64":"18446744073709551615","sf32":-2147483648,"sf64":"-9223372036854775808","fl":-0.0,"db":"NaN","flag":true,"text":"é\n","blob":"AP8=","kind":"KIND_A"}"#,
                            "t.Scalars")
        try assertRoundTrip(#"{"fl":"Infinity","db":"-Infinity"}"#, "t.Scalars")
        try assertRoundTrip(#"{"db":1e+300}"#, "t.Scalars")
    }

    func testDefaultsAreLeftOutUnlessAskedAndPresenceIsKept() throws {
        XCTAssertEqual(try encode(#"{"i32":0,"text":"","blob":"","kind":"KIND_NONE","db":0}"#, "t.Scalars"), [])
        try assertRoundTrip(#"{"maybe":0}"#, "t.Scalars")
        XCTAssertEqual(try json([], "t.Scalars", defaults: true),
                       #"{"i32":0,"i64":"0","u32":0,"u64":"0","s32":0,"s64":"0","f32":0,"f64":"0","sf32":0,"sf64":"0","fl":0.0,"db":0.0,"flag":false,"text":"","blob":"","kind":"KIND_NONE","packed":[],"unpacked":[]}"#)
    }

    func testEnumNumbersTheEnumLacksStayNumbersAndNamesOrNumbersAreRead() throws {
        XCTAssertEqual(try json([0x80, 0x01, 7], "t.Scalars"), #"{"kind":7}"#)
        XCTAssertEqual(try encode(#"{"kind":1}"#, "t.Scalars"), try encode(#"{"kind":"KIND_A"}"#, "t.Scalars"))
    }

    func testRepeatedFieldsArePackedAsDeclaredAndReadEitherWay() throws {
        XCTAssertEqual(try encode(#"{"packed":[1,2],"unpacked":["-1"]}"#, "t.Scalars"), [0x92, 0x01, 2, 1, 2, 0x98, 0x01, 1])
        // Unpacked on the wire for a packed field, and packed for an unpacked one: both accepted.
        XCTAssertEqual(try json([0x90, 0x01, 1, 0x90, 0x01, 2, 0x9A, 0x01, 1, 1], "t.Scalars"), #"{"packed":[1,2],"unpacked":["-1"]}"#)
    }

    func testMapsOneofsNestingAndFieldNames() throws {
        try assertRoundTrip(#"{"label":"root","child":{"label":"kid","number":0},"byId":{"-5":{"word":"w"},"0":{}}}"#, "t.Node")
        XCTAssertEqual(try encode(#"{"name":"x"}"#, "t.Node"), try encode(#"{"label":"x"}"#, "t.Node"))
        // The last oneof member on the wire wins.
        XCTAssertEqual(try json([0x20, 1, 0x2A, 1, 0x61], "t.Node"), #"{"word":"a"}"#)
        XCTAssertEqual(jsonError(#"{"number":1,"word":"a"}"#, "t.Node")?.pointer, "/word")
    }

    func testUnknownFieldsAreKeptByNumberBothWays() throws {
        let bytes: [UInt8] = [0x0A, 1, 0x61, 0xF8, 0x07, 5, 0xFD, 0x07, 1, 0, 0, 0, 0x82, 0x08, 2, 0xFF, 0]
        XCTAssertEqual(try json(bytes, "t.Node"), #"{"label":"a","127":[5,"0x00000001"],"128":{"bytes":"/wA="}}"#)
        XCTAssertEqual(try encode(try json(bytes, "t.Node"), "t.Node"), bytes)
    }

    func testWellKnownTypesInTheirJSONForms() throws {
        try assertRoundTrip(#"{"at":"1970-01-01T00:00:00Z","took":"-0.500s"}"#, "t.Node")
        try assertRoundTrip(#"{"at":"0001-01-01T00:00:00.000000001Z","took":"315576000000.000001s"}"#, "t.Node")
        try assertRoundTrip(#"{"at":"2024-02-29T12:00:00+02:00"}"#, "t.Node", expected: #"{"at":"2024-02-29T10:00:00Z"}"#)
        try assertRoundTrip(#"{"meta":{"a":[1.5,null,true,"s",{}],"b":{}},"anyValue":null}"#, "t.Node")
        try assertRoundTrip(#"{"mask":"label,byId.fooBar","big":"18446744073709551615"}"#, "t.Node")
        XCTAssertEqual(try encode(#"{"mask":"fooBar"}"#, "t.Node"), [0x52, 9, 0x0A, 7] + Array("foo_bar".utf8))
    }

    /// A FieldMask path prints only when its JSON form reads back as the same path (the
    /// fuzzer's find: `aҘ` read back as `a_ҙ`); a JSON path holding `_` is refused.
    func testFieldMaskPathsThatCannotRoundTripAreErrors() throws {
        func mask(_ paths: [String]) -> [UInt8] {
            let entries: [UInt8] = paths.flatMap { path -> [UInt8] in [0x0A, UInt8(path.utf8.count)] + Array(path.utf8) }
            return [0x52, UInt8(entries.count)] + entries
        }
        XCTAssertEqual(try json(mask(["foo_bar", "a\u{498}", "x.y_z"]), "t.Node"), #"{"mask":"fooBar,a\#u{498},x.yZ"}"#)
        try assertRoundTrip(#"{"mask":"fooBar,a\#u{498}"}"#, "t.Node")
        for path in ["fooBar", "foo_1", "foo__bar", "foo_"] {
            XCTAssertThrowsError(try json(mask([path]), "t.Node"), path) { error in
                XCTAssertEqual((error as? ProtobufJSONError)?.pointer, "/mask", path)
            }
        }
        XCTAssertEqual(jsonError(#"{"mask":"foo_bar"}"#, "t.Node")?.pointer, "/mask")
    }

    func testAnyWithAMessageAWellKnownPayloadAndAnUnknownType() throws {
        try assertRoundTrip(#"{"extra":{"@type":"type.googleapis.com/t.Node","label":"in","extra":{"@type":"type.googleapis.com/google.protobuf.Duration","value":"1.500s"}}}"#, "t.Node")
        let unresolved = #"{"extra":{"@type":"example.com/other.Thing","@unresolved":"type other.Thing is not in the loaded schema","value":"CAE="}}"#
        try assertRoundTrip(unresolved, "t.Node")
        XCTAssertEqual(jsonError(#"{"extra":{"@type":"x/other.Thing","a":1}}"#, "t.Node")?.pointer, "/extra/@type")
    }

    func testBadJSONNamesTheJSONPointerOfTheValue() {
        XCTAssertEqual(jsonError(#"{"child":{"byId":{"1":{"at":"noon"}}}}"#, "t.Node")?.pointer, "/child/byId/1/at")
        XCTAssertEqual(jsonError(#"{"i32":2147483648}"#, "t.Scalars")?.pointer, "/i32")
        XCTAssertEqual(jsonError(#"{"u64":-1}"#, "t.Scalars")?.pointer, "/u64")
        XCTAssertEqual(jsonError(#"{"i64":1.5}"#, "t.Scalars")?.pointer, "/i64")
        XCTAssertEqual(jsonError(#"{"blob":"!!"}"#, "t.Scalars")?.pointer, "/blob")
        XCTAssertEqual(jsonError(#"{"packed":[1,"x"]}"#, "t.Scalars")?.pointer, "/packed/1")
        XCTAssertEqual(jsonError(#"{"kind":"KIND_Z"}"#, "t.Scalars")?.pointer, "/kind")
        XCTAssertEqual(jsonError(#"{"meta":{"a/b":{"c~":1}},"took":"1m"}"#, "t.Node")?.pointer, "/took")
        XCTAssertEqual(jsonError(#"{"nope":1}"#, "t.Node")?.reason, #"message t.Node has no field "nope""#)
    }

    func testDecodingErrorsAreTyped() {
        func reason(_ bytes: [UInt8], _ type: String = "t.Scalars") -> ProtobufDecodingError.Reason? {
            do {
                _ = try ProtobufMessageDecoder(schema: Self.schema).decode(bytes, as: type)
                return nil
            } catch {
                return error.reason
            }
        }
        XCTAssertEqual(reason([0x72, 1, 0xFF]), .invalidUTF8(field: "text"))
        XCTAssertEqual(reason([0x08]), .wire(.truncated(offset: 1)))
        XCTAssertEqual(reason([0x0D, 0, 0, 0, 0]), .wrongWireType(field: "i32", fieldType: "int32", got: .fixed32))
        XCTAssertEqual(reason([], "t.Missing"), .unknownType("t.Missing"))
        // Node.child nested past the bound.
        var deep: [UInt8] = []
        for _ in 0..<ProtobufMessageDecoder.defaultMaxDepth { deep = [0x12] + varint(deep.count) + deep }
        XCTAssertEqual(reason(deep, "t.Node"), .nestingTooDeep(limit: ProtobufMessageDecoder.defaultMaxDepth))
    }

    func testASecondOccurrenceOfAMessageFieldMergesIntoTheFirst() throws {
        // child {name: "a"} then child {child {}}: one child with both.
        XCTAssertEqual(try json([0x12, 3, 0x0A, 1, 0x61, 0x12, 2, 0x12, 0], "t.Node"), #"{"child":{"label":"a","child":{}}}"#)
    }

    func testTimestampAndDurationOutOfRangeAreErrorsWhenPrinting() throws {
        let message = ProtobufMessageValue(typeName: "google.protobuf.Timestamp", fields: [1: [.signed(253_402_300_800)]])
        XCTAssertThrowsError(try ProtobufJSONPrinter(schema: Self.schema).json(for: message))
        XCTAssertNotNil(jsonError(#"{"at":"10000-01-01T00:00:00Z"}"#, "t.Node"))
        XCTAssertNotNil(jsonError(#"{"took":"315576000001s"}"#, "t.Node"))
    }

    private func varint(_ value: Int) -> [UInt8] {
        var writer = ProtobufWireWriter()
        writer.writeVarint(UInt64(value))
        return writer.bytes
    }
}
