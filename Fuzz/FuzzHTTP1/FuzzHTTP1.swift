import FuzzDriver
import TaplineWire

/// libFuzzer entry point. The input is fed to the request parser and to the
/// response parser (as answers to GET, HEAD, CONNECT, POST) twice: whole, and
/// split in two at a point chosen by its first byte. Both runs must give the same
/// events (body chunks concatenated) and the same error: a parser that depends on
/// how the bytes were cut is a smuggling bug. The ClientHello sniffer sees the
/// first part and the whole. A crash, trap, sanitizer report or a difference is a
/// bug; thrown parse errors are not.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let split = input.isEmpty ? 0 : Int(input[0]) % (input.count + 1)
    let whole = [input[...]]
    let parts = [input[0..<split], input[split...]]

    let wholeRequests = FuzzOutcome.requests(whole)
    let splitRequests = FuzzOutcome.requests(parts)
    if wholeRequests != splitRequests {
        fatalError("request parser depends on the split at \(split): \(wholeRequests) vs \(splitRequests)")
    }
    let wholeResponses = FuzzOutcome.responses(whole)
    let splitResponses = FuzzOutcome.responses(parts)
    if wholeResponses != splitResponses {
        fatalError("response parser depends on the split at \(split): \(wholeResponses) vs \(splitResponses)")
    }

    _ = TLSClientHelloSniffer.sniff(parts[0])
    _ = TLSClientHelloSniffer.sniff(input)
    return 0
}

/// The executable's entry point (see FuzzDriver): libFuzzer calls `fuzz` per input.
@_cdecl("FuzzHTTP1_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv) { data, size in fuzz(data, size) }
}
