import FuzzDriver
import TaplineWire

/// libFuzzer entry point for the gRPC-Web text decoder (`GRPCWebTextDecoder`). The first
/// input byte picks two split points; the rest is an `application/grpc-web-text` body, fed
/// to the decoder whole, cut at the two points, and byte by byte. All three must give the
/// same bytes and the same error (the decoder's invariant: what a proxy decodes cannot
/// depend on how TCP or HTTP/2 cut the text), and a body that decodes must give exactly
/// what the project's `Base64` gives for each of its padded runs. A crash, trap, sanitizer
/// report or a difference is a bug.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let control = data[0]
    let input = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let first = Int(control & 15) * input.count / 15
    let second = first + Int(control >> 4) * (input.count - first) / 15

    let whole = FuzzGRPCWebTextOutcome.decode([input[...]])
    let cut = FuzzGRPCWebTextOutcome.decode([input[..<first], input[first..<second], input[second...]])
    let bytewise = FuzzGRPCWebTextOutcome.decode(input.indices.map { input[$0...$0] })
    if whole != cut { fatalError("decoder depends on the split at \(first), \(second): \(whole) vs \(cut)") }
    if whole != bytewise { fatalError("decoder differs when fed byte by byte: \(whole) vs \(bytewise)") }
    if whole.error == nil, whole.bytes != FuzzGRPCWebTextOutcome.decodeRunByRun(input) {
        fatalError("decoded \(whole) differs from Base64 run by run")
    }
    return 0
}

/// The executable's entry point (see FuzzDriver): libFuzzer calls `fuzz` per input.
@_cdecl("FuzzGRPCWebText_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv) { data, size in fuzz(data, size) }
}
