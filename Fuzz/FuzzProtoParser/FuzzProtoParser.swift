import FuzzDriver
import TaplineProtobuf

/// libFuzzer entry point for the `.proto` tokenizer and parser (and the resolution of
/// what they parse). Any input, as UTF-8 text (invalid bytes repaired): `ProtoParser`
/// parses it or throws a `ProtoSchemaError`, and a parsed file resolves into a
/// `ProtoSchema` with the built-in well-known types or throws one. A crash, trap or
/// sanitizer report is a bug; a schema error is not.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let file = try? ProtoParser.parse(text: text, name: "fuzz.proto") else { return 0 }
    var files = [file]
    for dependency in file.dependencies {
        guard let builtIn = WellKnownProtoFiles.byImportName[dependency],
              let parsed = try? ProtoParser.parse(text: builtIn, name: dependency) else { return 0 }
        files.append(parsed)
    }
    _ = try? ProtoSchema(files: files)
    return 0
}

/// The executable's entry point (see FuzzDriver): libFuzzer calls `fuzz` per input.
@_cdecl("FuzzProtoParser_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv) { data, size in fuzz(data, size) }
}
