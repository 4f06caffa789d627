import TaplineWire

/// Everything the SOCKS5 handshake said about one input, comparable across splits.
struct FuzzSOCKS5Outcome: Equatable, CustomStringConvertible {
    var outputs: [SOCKS5HandshakeOutput] = []
    /// What `takeUnparsedBytes` handed on after a CONNECT.
    var rest: [UInt8] = []

    static func run(_ parts: [ArraySlice<UInt8>], credentials: SOCKS5Credentials?) -> FuzzSOCKS5Outcome {
        var handshake = SOCKS5ServerHandshake(credentials: credentials)
        var outcome = FuzzSOCKS5Outcome()
        for part in parts {
            outcome.outputs += handshake.receive(part)
        }
        outcome.rest = handshake.takeUnparsedBytes()
        return outcome
    }

    var description: String { "\(outputs), \(rest.count) bytes handed on" }
}
