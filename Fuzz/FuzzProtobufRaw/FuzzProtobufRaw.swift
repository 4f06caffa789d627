import FuzzDriver
import TaplineProtobuf

/// libFuzzer entry point for the protobuf wire reader and the schemaless decode. Any
/// input: `RawProtobufMessage` decodes it or throws (both renderings must then work);
/// walking the same bytes field by field with `ProtobufWireReader.skipValue` must accept
/// exactly the same inputs with the same error; and what was accepted must survive a
/// round trip through the writer (`encoded()` decodes to an equal message). A crash,
/// trap, sanitizer report or a difference is a bug; malformed input is not.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let decoded = Result { () throws(ProtobufWireError) in try RawProtobufMessage(decoding: input) }
    let walked = Result { () throws(ProtobufWireError) in try walk(input) }
    switch (decoded, walked) {
    case (.success(let message), .success):
        _ = RawProtobufTextFormat.render(message)
        _ = RawProtobufJSON.render(message)
        let again = Result { () throws(ProtobufWireError) in try RawProtobufMessage(decoding: message.encoded()) }
        guard case .success(let reencoded) = again, reencoded == message else {
            fatalError("the writer's bytes decode differently: \(message) vs \(again)")
        }
    case (.failure(let decodeError), .failure(let walkError)):
        if decodeError != walkError { fatalError("decode says \(decodeError), the reader's walk says \(walkError)") }
    default:
        fatalError("decode and the reader's walk disagree: \(decoded) vs \(walked)")
    }
    return 0
}

/// Reads every top-level field of `input`, skipping each value.
private func walk(_ input: [UInt8]) throws(ProtobufWireError) {
    var reader = ProtobufWireReader(input)
    while !reader.isAtEnd {
        try reader.skipValue(of: try reader.readTag())
    }
}

/// The executable's entry point (see FuzzDriver): libFuzzer calls `fuzz` per input.
@_cdecl("FuzzProtobufRaw_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv) { data, size in fuzz(data, size) }
}
