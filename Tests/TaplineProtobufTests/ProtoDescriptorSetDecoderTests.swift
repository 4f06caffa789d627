import TaplineProtobuf
import TaplineWire
import XCTest

/// A FileDescriptorSet, as protoc writes it, decodes into the same model the `.proto`
/// parser builds. (`test_protobuf_json.py` decodes with protoc's own sets.)
final class ProtoDescriptorSetDecoderTests: XCTestCase {
    private static let proto = """
    syntax = "proto3";
    package p;
    import "google/protobuf/timestamp.proto";
    enum Kind { K0 = 0; K1 = 1; }
    message M {
      message Inner { repeated int32 xs = 1 [packed = false]; }
      map<string, Inner> by_name = 1;
      optional int32 maybe = 2;
      repeated Kind kinds = 3;
      oneof choice { string word = 4; Inner inner = 5; }
      google.protobuf.Timestamp at = 6 [json_name = "when"];
    }
    service S { rpc Call(M) returns (stream M); }
    """

    /// What `protoc -o` writes for `proto` (without --include_imports), as proto3 JSON.
    private static let descriptorSetJSON = """
    {"file": [{"name": "p.proto", "package": "p", "dependency": ["google/protobuf/timestamp.proto"], "syntax": "proto3",
      "messageType": [{"name": "M",
        "field": [
          {"name": "by_name", "number": 1, "label": "LABEL_REPEATED", "type": "TYPE_MESSAGE", "typeName": ".p.M.ByNameEntry", "jsonName": "byName"},
          {"name": "maybe", "number": 2, "label": "LABEL_OPTIONAL", "type": "TYPE_INT32", "jsonName": "maybe", "oneofIndex": 1, "proto3Optional": true},
          {"name": "kinds", "number": 3, "label": "LABEL_REPEATED", "type": "TYPE_ENUM", "typeName": ".p.Kind", "jsonName": "kinds"},
          {"name": "word", "number": 4, "label": "LABEL_OPTIONAL", "type": "TYPE_STRING", "jsonName": "word", "oneofIndex": 0},
          {"name": "inner", "number": 5, "label": "LABEL_OPTIONAL", "type": "TYPE_MESSAGE", "typeName": ".p.M.Inner", "jsonName": "inner", "oneofIndex": 0},
          {"name": "at", "number": 6, "label": "LABEL_OPTIONAL", "type": "TYPE_MESSAGE", "typeName": ".google.protobuf.Timestamp", "jsonName": "when"}],
        "nestedType": [
          {"name": "Inner", "field": [{"name": "xs", "number": 1, "label": "LABEL_REPEATED", "type": "TYPE_INT32", "jsonName": "xs", "options": {"packed": false}}]},
          {"name": "ByNameEntry", "field": [
            {"name": "key", "number": 1, "label": "LABEL_OPTIONAL", "type": "TYPE_STRING", "jsonName": "key"},
            {"name": "value", "number": 2, "label": "LABEL_OPTIONAL", "type": "TYPE_MESSAGE", "typeName": ".p.M.Inner", "jsonName": "value"}],
           "options": {"mapEntry": true}}],
        "oneofDecl": [{"name": "choice"}, {"name": "_maybe"}]}],
      "enumType": [{"name": "Kind", "value": [{"name": "K0", "number": 0}, {"name": "K1", "number": 1}]}],
      "service": [{"name": "S", "method": [{"name": "Call", "inputType": ".p.M", "outputType": ".p.M", "serverStreaming": true}]}]}]}
    """

    /// The properties decoding depends on, per message, in a comparable form.
    private func summary(_ schema: ProtoSchema, _ name: String) -> [String] {
        guard let message = schema.message(named: name) else { return ["missing \(name)"] }
        var lines = ["\(message.fullName) mapEntry=\(message.isMapEntry) oneofs=\(message.oneofs.map { "\($0.name)/\($0.isSynthetic)" })"]
        for field in message.fields {
            lines.append("\(field.number) \(field.name) \(field.jsonName) \(field.cardinality) \(field.type) oneof=\(String(describing: field.oneofIndex)) packed=\(field.isPacked) p3opt=\(field.isProto3Optional)")
        }
        return lines
    }

    func testADescriptorSetBuildsTheSameModelAsTheProtoFile() throws {
        let fromText = try ProtoSchema(files: [
            try ProtoParser.parse(text: Self.proto, name: "p.proto"),
            try ProtoParser.parse(text: WellKnownProtoFiles.byImportName["google/protobuf/timestamp.proto"]!,
                                  name: "google/protobuf/timestamp.proto"),
        ])
        let descriptorSchema = try ProtoSchema(files: [
            try ProtoParser.parse(text: WellKnownProtoFiles.byImportName["google/protobuf/descriptor.proto"]!,
                                  name: "google/protobuf/descriptor.proto"),
        ])
        let setValue = try ProtobufJSONReader(schema: descriptorSchema)
            .message(from: try JSONParser.parse(Array(Self.descriptorSetJSON.utf8)), as: "google.protobuf.FileDescriptorSet")
        let bytes = ProtobufMessageEncoder(schema: descriptorSchema).encode(setValue)

        let files = try ProtoDescriptorSetDecoder.files(decoding: bytes, name: "set.pb")
        XCTAssertEqual(files.map(\.name), ["p.proto", "google/protobuf/timestamp.proto"], "the missing well-known import is built in")
        let fromSet = try ProtoSchema(files: files)
        for name in ["p.M", "p.M.Inner", "p.M.ByNameEntry", "google.protobuf.Timestamp"] {
            XCTAssertEqual(summary(fromSet, name), summary(fromText, name))
        }
        XCTAssertEqual(fromSet.enumeration(named: "p.Kind")?.values.map(\.name), ["K0", "K1"])
        let method = fromSet.service(named: "p.S")?.methods.first
        XCTAssertEqual(method?.inputType, "p.M")
        XCTAssertEqual(method?.callKind, "server streaming")
    }

    func testBytesThatAreNotADescriptorSetNameTheFile() {
        XCTAssertThrowsError(try ProtoDescriptorSetDecoder.files(decoding: [0x0A, 5, 1], name: "broken.pb")) { error in
            XCTAssertTrue("\(error)".contains("broken.pb is not a binary FileDescriptorSet"), "\(error)")
        }
    }

    func testFieldNumbersAndOneofIndexesTheDecodersRelyOnAreChecked() throws {
        let descriptorSchema = try ProtoSchema(files: [
            try ProtoParser.parse(text: WellKnownProtoFiles.byImportName["google/protobuf/descriptor.proto"]!,
                                  name: "google/protobuf/descriptor.proto"),
        ])
        for (field, problem) in [(#"{"name": "f", "number": 0, "type": "TYPE_INT32"}"#, "has number 0"),
                                 (#"{"name": "f", "number": 1, "type": "TYPE_INT32", "oneofIndex": 3}"#, "names oneof 3")] {
            let json = #"{"file": [{"name": "x.proto", "messageType": [{"name": "M", "field": [\#(field)]}]}]}"#
            let set = try ProtobufJSONReader(schema: descriptorSchema)
                .message(from: try JSONParser.parse(Array(json.utf8)), as: "google.protobuf.FileDescriptorSet")
            let bytes = ProtobufMessageEncoder(schema: descriptorSchema).encode(set)
            XCTAssertThrowsError(try ProtoDescriptorSetDecoder.files(decoding: bytes, name: "x.pb")) { error in
                XCTAssertTrue("\(error)".contains(problem), "\(error)")
            }
        }
    }
}
