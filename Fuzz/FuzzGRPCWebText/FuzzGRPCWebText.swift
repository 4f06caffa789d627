import FuzzDriver
import TaplineWire

/// libFuzzer entry point for the gRPC-Web text decoder (`GRPCWebTextDecoder`). The first
/// input byte picks two split points; the rest is an `application/grpc-web-text` body, fed
/// to the decoder whole, cut at the two points, and byte by byte. All three must give the
/// same error and, without one, the same bytes (the decoder's invariant: what a proxy
/// decodes cannot depend on how TCP or HTTP/2 cut the text); with one, the bytes returned
/// before it are a prefix of those fed byte by byte (the chunk that fails returns none).
/// A body that decodes must give exactly what the project's `Base64` gives for each of its
/// padded runs. A crash, trap, sanitizer report or a difference is a bug.
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
    for (name, outcome) in [("split at \(first), \(second)", cut), ("byte by byte", bytewise)] {
        guard outcome.error == whole.error else { fatalError("decoder's error differs \(name): \(whole) vs \(outcome)") }
        if whole.error == nil, outcome.bytes != whole.bytes { fatalError("decoder differs \(name): \(whole) vs \(outcome)") }
    }
    if whole.error != nil, !bytewise.bytes.starts(with: whole.bytes) || !bytewise.bytes.starts(with: cut.bytes) {
        fatalError("bytes before the error are not a prefix of those fed byte by byte: \(whole), \(cut), \(bytewise)")
    }
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
