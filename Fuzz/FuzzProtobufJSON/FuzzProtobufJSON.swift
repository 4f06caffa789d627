import FuzzDriver
import TaplineProtobuf
import TaplineWire

/// libFuzzer entry point for the schema-driven decoder and the proto3 JSON mapping, with a
/// fixed schema that uses every field kind and well-known type. Any input: decoding it as
/// `fuzz.All` succeeds or throws, and so does printing it as JSON. When both succeed, the
/// JSON read back and encoded decodes and prints to the same JSON (the declared fields';
/// unknown fields' JSON is not always read back as the same wire type, docs/grpc.md).
/// A crash, trap, sanitizer report or a difference is a bug; an error is not.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let decoder = ProtobufMessageDecoder(schema: schema)
    guard let message = try? decoder.decode(input, as: "fuzz.All"),
          let json = try? ProtobufJSONPrinter(schema: schema).json(for: message) else { return 0 }
    let known = ProtobufJSONPrinter(schema: schema, includeUnknownFields: false)
    guard let first = try? known.json(for: message) else { fatalError("printing fails only without unknown fields") }
    let read: ProtobufMessageValue
    do {
        read = try ProtobufJSONReader(schema: schema).message(from: json, as: "fuzz.All")
    } catch {
        fatalError("the printer's JSON does not read back: \(error)\n\(JSONWriter.text(json, indent: nil))")
    }
    let bytes = ProtobufMessageEncoder(schema: schema).encode(read)
    guard let again = try? decoder.decode(bytes, as: "fuzz.All"), let second = try? known.json(for: again) else {
        fatalError("the encoder's bytes do not decode and print: \(bytes)")
    }
    if first != second {
        fatalError("not stable:\n\(JSONWriter.text(first, indent: nil))\n\(JSONWriter.text(second, indent: nil))")
    }
    return 0
}

private let schemaText = """
syntax = "proto3";
package fuzz;
import "google/protobuf/any.proto";
import "google/protobuf/duration.proto";
import "google/protobuf/empty.proto";
import "google/protobuf/field_mask.proto";
import "google/protobuf/struct.proto";
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";
enum E { E0 = 0; E1 = 1; }
message All {
  int32 a = 1; int64 b = 2; uint32 c = 3; uint64 d = 4; sint32 e = 5; sint64 f = 6; fixed32 g = 7;
  fixed64 h = 8; sfixed32 i = 9; sfixed64 j = 10; float k = 11; double l = 12; bool m = 13; string n = 14;
  bytes o = 15; E p = 16; optional int32 q = 17; repeated int32 r = 18; repeated double s = 19 [packed = false];
  repeated All t = 20; map<string, All> u = 21; map<bool, E> v = 22; map<sint64, bytes> w = 23;
  oneof x { string x1 = 24; All x2 = 25; google.protobuf.Empty x3 = 26; }
  google.protobuf.Timestamp y = 27; google.protobuf.Duration z = 28; google.protobuf.Any aa = 29;
  google.protobuf.Struct ab = 30; google.protobuf.Value ac = 31; google.protobuf.ListValue ad = 32;
  google.protobuf.FieldMask ae = 33; google.protobuf.Int64Value af = 34; google.protobuf.BytesValue ag = 35;
  google.protobuf.FloatValue ah = 36; google.protobuf.NullValue ai = 37; repeated google.protobuf.Any aj = 38;
}
"""

private let schema: ProtoSchema = {
    var files: [ProtoFile] = []
    do {
        files.append(try ProtoParser.parse(text: schemaText, name: "fuzz.proto"))
        for name in ["any", "duration", "empty", "field_mask", "struct", "timestamp", "wrappers"] {
            let path = "google/protobuf/\(name).proto"
            files.append(try ProtoParser.parse(text: WellKnownProtoFiles.byImportName[path] ?? "", name: path))
        }
        return try ProtoSchema(files: files)
    } catch {
        fatalError("the fuzz schema does not load: \(error)")
    }
}()

/// The executable's entry point (see FuzzDriver): libFuzzer calls `fuzz` per input.
@_cdecl("FuzzProtobufJSON_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv) { data, size in fuzz(data, size) }
}
