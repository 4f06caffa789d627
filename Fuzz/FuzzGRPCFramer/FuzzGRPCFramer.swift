import FuzzDriver
import TaplineWire

/// libFuzzer entry point for the gRPC message framer. The first input byte picks the
/// framing (bit 0: gRPC or gRPC-Web), the size limit (bit 1: 64 bytes or 1 MiB) and two
/// split points; the rest is one direction of a call, fed to `GRPCMessageFramer` whole,
/// cut at the two points, and byte by byte. All three must give the same events and the
/// same error (the framer's invariant: a proxy's view of the messages cannot depend on
/// how TCP or HTTP/2 cut the bytes). Every message must lie inside the input, in order,
/// within the limit. A crash, trap, sanitizer report or a difference is a bug.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let control = data[0]
    let input = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let framing: GRPCFraming = control & 1 == 0 ? .grpc : .grpcWeb
    let limit = control & 2 == 0 ? 64 : 1 << 20
    let first = Int(control >> 2 & 7) * input.count / 7
    let second = first + Int(control >> 5) * (input.count - first) / 7

    let whole = FuzzGRPCFramerOutcome.frame([input[...]], framing: framing, maxMessageBytes: limit)
    let cut = FuzzGRPCFramerOutcome.frame([input[..<first], input[first..<second], input[second...]],
                                          framing: framing, maxMessageBytes: limit)
    let bytewise = FuzzGRPCFramerOutcome.frame(input.indices.map { input[$0...$0] }, framing: framing,
                                               maxMessageBytes: limit)
    if whole != cut { fatalError("framer depends on the split at \(first), \(second): \(whole) vs \(cut)") }
    if whole != bytewise { fatalError("framer differs when fed byte by byte: \(whole) vs \(bytewise)") }

    var end = 0
    for event in whole.events {
        let frame: GRPCMessageFrame
        switch event {
        case .message(let message): frame = message
        case .trailers(let trailers, _): frame = trailers
        }
        if frame.frameOffset != end || frame.payloadRange.lowerBound != end + GRPCMessageFrame.prefixSize
            || frame.payloadRange.upperBound > input.count || frame.length > limit {
            fatalError("frame \(frame) out of place (previous frame ended at \(end), input \(input.count) bytes)")
        }
        end = frame.payloadRange.upperBound
    }
    return 0
}

/// The executable's entry point (see FuzzDriver): libFuzzer calls `fuzz` per input.
@_cdecl("FuzzGRPCFramer_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv) { data, size in fuzz(data, size) }
}
