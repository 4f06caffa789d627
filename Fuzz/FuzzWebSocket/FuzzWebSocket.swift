import FuzzDriver
import TaplineCompression
import TaplineWire

/// libFuzzer entry point for the WebSocket framer. The first input byte picks the
/// role (bit 0), whether permessage-deflate is on (bit 1) and a split point; the rest
/// is fed to `WebSocketMessageDecoder` twice: whole, and split in two. Both runs must
/// give the same messages and the same error (a decoder that depends on how bytes
/// were cut would let a proxy and an endpoint disagree). Every decoded message is
/// re-encoded with `WebSocketFrameEncoder` and must decode to itself; compressed
/// payloads are inflated with a small output limit (must not crash or exceed it).
/// A crash, trap, sanitizer report or a difference is a bug; protocol errors are not.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let control = data[0]
    let input = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let role: WebSocketRole = control & 1 == 0 ? .server : .client
    let compression = control & 2 != 0
    let split = input.isEmpty ? 0 : Int(control >> 2) * input.count / 63
    let limit = 1 << 16

    let whole = FuzzWebSocketOutcome.decode([input[...]], role: role, compression: compression, maxMessageBytes: limit)
    let parts = FuzzWebSocketOutcome.decode([input[..<split], input[split...]], role: role, compression: compression,
                                            maxMessageBytes: limit)
    if whole != parts {
        fatalError("WebSocket decoder depends on the split at \(split): \(whole) vs \(parts)")
    }

    // Every message survives a round trip through the encoder of the sending role.
    let sender = WebSocketFrameEncoder(role: role == .server ? .client : .server)
    var reencoded: [UInt8] = []
    for message in whole.messages {
        reencoded += sender.frame(message.opcode, payload: message.payload,
                                  reservedBits: message.compressed ? WebSocketFrameHeader.rsv1 : 0)
        if message.compressed, let inflater = try? ZlibInflater(format: .raw(windowBits: 15), maxOutputBytes: 4096) {
            var output: [UInt8] = []
            _ = try? inflater.decompress(message.payload + [0, 0, 0xFF, 0xFF], into: &output)
            if output.count > 4096 { fatalError("inflater produced \(output.count) bytes over its limit") }
        }
    }
    let again = FuzzWebSocketOutcome.decode([reencoded[...]], role: role, compression: compression, maxMessageBytes: limit)
    if again.messages.map(\.payload) != whole.messages.map(\.payload) || again.messages.map(\.opcode) != whole.messages.map(\.opcode) {
        fatalError("re-encoded messages decode differently: \(whole) vs \(again)")
    }
    return 0
}

/// The executable's entry point (see FuzzDriver): libFuzzer calls `fuzz` per input.
@_cdecl("FuzzWebSocket_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv) { data, size in fuzz(data, size) }
}
