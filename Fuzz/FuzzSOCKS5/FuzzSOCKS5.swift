import FuzzDriver
import TaplineWire

/// libFuzzer entry point for the SOCKS5 server handshake. The first input byte picks
/// whether credentials are required (bit 0) and two split points; the rest is what a
/// client sends, fed to `SOCKS5ServerHandshake` whole, cut at the two points, and byte
/// by byte. All three must give the same outputs and hand on the same bytes after a
/// CONNECT (a handshake that depends on how TCP cut the bytes would answer clients at
/// random). Outputs must end at the first `.connect` or `.failed`, every reply must be
/// one the protocol allows, and the bytes handed on must be the input's tail.
/// A crash, trap, sanitizer report or a difference is a bug; refusals are not.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let control = data[0]
    let input = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let credentials = control & 1 == 0 ? nil : SOCKS5Credentials(username: "user", password: "pass")
    let first = Int(control >> 1 & 7) * input.count / 7
    let second = first + Int(control >> 4) * (input.count - first) / 15

    let whole = FuzzSOCKS5Outcome.run([input[...]], credentials: credentials)
    let cut = FuzzSOCKS5Outcome.run([input[..<first], input[first..<second], input[second...]], credentials: credentials)
    let bytewise = FuzzSOCKS5Outcome.run(input.indices.map { input[$0...$0] }, credentials: credentials)
    if whole != cut { fatalError("handshake depends on the split at \(first), \(second): \(whole) vs \(cut)") }
    if whole != bytewise { fatalError("handshake differs when fed byte by byte: \(whole) vs \(bytewise)") }

    for (index, output) in whole.outputs.enumerated() {
        switch output {
        case .send(let bytes):
            guard [2, 8, 10].contains(bytes.count) else { fatalError("a reply of \(bytes.count) bytes: \(bytes)") }
        case .connect(_, let port):
            guard (1...65_535).contains(port) else { fatalError("CONNECT to port \(port)") }
            fallthrough
        case .failed:
            guard index == whole.outputs.count - 1 else { fatalError("outputs after the end: \(whole.outputs)") }
        }
    }
    if !whole.rest.isEmpty, Array(input.suffix(whole.rest.count)) != whole.rest {
        fatalError("the bytes handed on are not the input's tail: \(whole.rest)")
    }
    return 0
}

/// The executable's entry point (see FuzzDriver): libFuzzer calls `fuzz` per input.
@_cdecl("FuzzSOCKS5_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv) { data, size in fuzz(data, size) }
}
